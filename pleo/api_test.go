package pleo_test

import (
	"bytes"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/printer"
	"go/token"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
)

// publicAPI is the package's exported API, one declaration per line and sorted: functions and
// methods with their signatures, types, the exported fields of struct types, variables and
// constants by name.
func publicAPI(t *testing.T) (lines []string, undocumented []string) {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	p, err := doc.NewFromFiles(fset, files(pkgs["pleo"]), "github.com/pleoauth/pleoauth/pleo")
	if err != nil {
		t.Fatal(err)
	}
	signature := func(f *doc.Func) string {
		decl := *f.Decl
		decl.Doc, decl.Body = nil, nil
		var buf bytes.Buffer
		printer.Fprint(&buf, fset, &decl)
		return buf.String()
	}
	funcs := func(fs []*doc.Func) {
		for _, f := range fs {
			lines = append(lines, signature(f))
			if f.Doc == "" && f.Name != "Error" { // Error() string is the error interface's
				undocumented = append(undocumented, f.Name)
			}
		}
	}
	values := func(kind string, vs []*doc.Value) {
		for _, v := range vs {
			for _, spec := range v.Decl.Specs {
				for _, n := range spec.(*ast.ValueSpec).Names {
					if !n.IsExported() {
						continue
					}
					lines = append(lines, kind+" "+n.Name)
					if v.Doc == "" && spec.(*ast.ValueSpec).Doc == nil {
						undocumented = append(undocumented, n.Name)
					}
				}
			}
		}
	}
	funcs(p.Funcs)
	values("const", p.Consts)
	values("var", p.Vars)
	for _, typ := range p.Types {
		spec := typ.Decl.Specs[0].(*ast.TypeSpec)
		kind := "type " + typ.Name
		if _, ok := spec.Type.(*ast.StructType); ok {
			kind += " struct"
		}
		lines = append(lines, kind)
		if typ.Doc == "" {
			undocumented = append(undocumented, typ.Name)
		}
		if st, ok := spec.Type.(*ast.StructType); ok {
			for _, field := range st.Fields.List {
				var buf bytes.Buffer
				printer.Fprint(&buf, fset, field.Type)
				for _, n := range field.Names {
					if n.IsExported() {
						lines = append(lines, "field "+typ.Name+"."+n.Name+" "+buf.String())
						if field.Doc == nil {
							undocumented = append(undocumented, typ.Name+"."+n.Name)
						}
					}
				}
			}
		}
		funcs(typ.Funcs)
		funcs(typ.Methods)
		values("const", typ.Consts)
		values("var", typ.Vars)
	}
	slices.Sort(lines)
	return lines, undocumented
}

func files(p *ast.Package) []*ast.File {
	var out []*ast.File
	for _, name := range slices.Sorted(maps.Keys(p.Files)) {
		out = append(out, p.Files[name])
	}
	return out
}

// listedAPI is the API docs/library.md promises: the lines of its "api" block.
func listedAPI(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../docs/library.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(data), "```api\n")
	block, _, closed := strings.Cut(block, "```")
	if !ok || !closed {
		t.Fatal("docs/library.md has no ```api block")
	}
	var lines []string
	for _, l := range strings.Split(block, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	slices.Sort(lines)
	return lines
}

// TestPublicAPI: the package exports exactly what docs/library.md lists, so that its API, which
// semantic versioning binds, cannot grow or change by accident.
func TestPublicAPI(t *testing.T) {
	have, _ := publicAPI(t)
	listed := listedAPI(t)
	for _, l := range have {
		if !slices.Contains(listed, l) {
			t.Errorf("exported but not in docs/library.md: %s", l)
		}
	}
	for _, l := range listed {
		if !slices.Contains(have, l) {
			t.Errorf("in docs/library.md but not exported: %s", l)
		}
	}
	if t.Failed() {
		t.Logf("the package's API, as the block lists it:\n%s", strings.Join(have, "\n"))
	}
}

// TestEveryExportedNameIsDocumented: "go doc" has something to say of every exported name.
func TestEveryExportedNameIsDocumented(t *testing.T) {
	if _, undocumented := publicAPI(t); len(undocumented) > 0 {
		t.Errorf("exported without a doc comment: %s", strings.Join(undocumented, ", "))
	}
}
