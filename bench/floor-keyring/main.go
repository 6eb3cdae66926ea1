// Command floor-keyring is the floor of the keychain store's cached path: one go-keyring Get,
// printed.
package main

import (
	"fmt"
	"os"

	"github.com/zalando/go-keyring"
)

func main() {
	v, err := keyring.Get(os.Args[1], os.Args[2])
	if err != nil {
		os.Exit(1)
	}
	fmt.Println(v)
}
