// pleoauth serve: a valid token for every request (README, "Postman and Newman").
pm.sendRequest({
  url: pm.environment.get("pleoauthUrl") + "/token",
  header: { Authorization: "Bearer " + pm.environment.get("pleoauthKey") }
}, (err, res) => {
  if (err || res.code !== 200) {
    throw new Error("pleoauth serve: " + (err || res.text()));
  }
  pm.environment.set("accessToken", res.json().access_token);
});
