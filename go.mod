module github.com/pleoauth/pleoauth

go 1.26
