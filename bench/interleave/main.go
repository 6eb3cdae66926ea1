// Command interleave runs programs one after the other, round after round, and prints each one's
// median wall time and its ratio to the first program's. Running them interleaved puts every
// program under the same load, which on a shared machine matters more than the number of runs;
// docs/performance.md compares builds of successive commits with it.
//
//	go run ./bench/interleave -n 400 'floor=bench-bin/floor-linked tokens/local.json' 'before=old/pleoauth token' 'after=new/pleoauth token'
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

func main() {
	rounds := flag.Int("n", 200, "rounds")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: interleave [-n rounds] 'name=program args' ...")
		flag.PrintDefaults()
	}
	flag.Parse()
	type program struct {
		name  string
		argv  []string
		walls []time.Duration
	}
	var programs []*program
	for _, a := range flag.Args() {
		name, cmdline, ok := strings.Cut(a, "=")
		if !ok || strings.TrimSpace(cmdline) == "" {
			flag.Usage()
			os.Exit(2)
		}
		programs = append(programs, &program{name: name, argv: strings.Fields(cmdline)})
	}
	if len(programs) == 0 {
		flag.Usage()
		os.Exit(2)
	}
	for range *rounds {
		for _, p := range programs {
			cmd := exec.Command(p.argv[0], p.argv[1:]...)
			start := time.Now()
			if err := cmd.Run(); err != nil {
				fmt.Fprintf(os.Stderr, "interleave: %s: %v\n", p.name, err)
				os.Exit(1)
			}
			p.walls = append(p.walls, time.Since(start))
		}
	}
	var first time.Duration
	for i, p := range programs {
		slices.Sort(p.walls)
		m := p.walls[len(p.walls)/2]
		if i == 0 {
			first = m
		}
		fmt.Printf("%-24s %6.2f ms  %.2f×\n", p.name, float64(m.Microseconds())/1000, float64(m)/float64(first))
	}
}
