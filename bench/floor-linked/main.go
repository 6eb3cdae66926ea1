// Command floor-linked is floor-bare linked with the libraries pleoauth is built on (go-redis
// for the redis store and gojq for "api --jq" included). Their package initialisation runs at
// every start, so this is the start-up cost no change to pleoauth's own code can remove.
package main

import (
	"os"

	_ "github.com/gofrs/flock"
	_ "github.com/itchyny/gojq"
	_ "github.com/pkg/browser"
	_ "github.com/redis/go-redis/v9"
	_ "github.com/spf13/cobra"
	_ "github.com/zalando/go-keyring"
	_ "go.yaml.in/yaml/v3"
	_ "golang.org/x/oauth2"
	_ "net/http"
)

func main() {
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		os.Exit(1)
	}
	_, _ = os.Stdout.Write(data)
}
