package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNothingKeepsEveryMethod: one reachable call of reflect's Method or MethodByName with a
// name not known at build time — text/template and html/template make one when they execute a
// template — makes the linker keep every exported method of every type in the binary. It grew
// pleoauth from 11 MB to 20 MB (go-redis's thousand command methods, mostly) and cost every
// start-up about a millisecond (docs/performance.md). The linker's dependency dump marks such a
// call <ReflectMethod>.
func TestNothingKeepsEveryMethod(t *testing.T) {
	if testing.Short() {
		t.Skip("links pleoauth once more; skipped with -short")
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-dumpdep", "-o", filepath.Join(t.TempDir(), "pleoauth"), ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var dump bytes.Buffer
	cmd.Stdout, cmd.Stderr = &dump, &dump
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build -ldflags=-dumpdep: %v\n%.2000s", err, dump.String())
	}
	edges, marked := 0, map[string]bool{}
	for s := bufio.NewScanner(&dump); s.Scan(); edges++ {
		fields := strings.Fields(s.Text()) // "caller [<mark>] -> callee [<mark>]"
		for i := 1; i < len(fields); i++ {
			if fields[i] == "<ReflectMethod>" && !marked[fields[i-1]] {
				marked[fields[i-1]] = true
				t.Errorf("%s calls a method by a name known only at run time, which keeps every exported method in the binary; find another way (see page.go in internal/loopback)", fields[i-1])
			}
		}
	}
	if edges < 1000 {
		t.Fatalf("the linker's dependency dump has %d lines; the check saw no dump", edges)
	}
}

// TestLinksNoDocumentationLibraries: the reference writers (cobra/doc, go-md2man, blackfriday)
// belong to tools/gendocs. Linked into pleoauth, their package initialisation runs in every
// "pleoauth token" — blackfriday's alone took 0.24 ms, a tenth of the cached path's margin over
// its floor (docs/performance.md).
func TestLinksNoDocumentationLibraries(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 100 {
		t.Fatalf("go list -deps named %d packages; the check saw no list", len(deps))
	}
	for _, dep := range deps {
		for _, banned := range []string{"github.com/spf13/cobra/doc", "github.com/cpuguy83/go-md2man", "github.com/russross/blackfriday"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("pleoauth links %s; the reference writers belong in internal/clidocs, which only tools/gendocs and tests import", dep)
			}
		}
	}
}
