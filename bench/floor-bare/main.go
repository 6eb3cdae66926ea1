// Command floor-bare is the benchmark's lower floor: a Go program that reads a file and prints
// it, as "pleoauth token" does on its cached path, with nothing else linked in.
package main

import (
	"os"
)

func main() {
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		os.Exit(1)
	}
	_, _ = os.Stdout.Write(data)
}
