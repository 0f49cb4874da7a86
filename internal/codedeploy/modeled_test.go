package codedeploy

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/slipway-cd/slipway/internal/cdapi"
)

// TestErrorsAreModeled checks, from the source, that every exception an
// operation's handler can return is one the model lists for that
// operation: the SDKs decode only an operation's modeled errors into
// their typed exceptions (others become generic API errors). It collects
// the cdapi exception constants each function of the package refers to,
// follows calls between the package's functions, and compares the
// closure of each handler (a Service method named after an operation)
// with the model. The closure over-approximates; allowed lists the
// exceptions a handler provably remaps, with the reason.
func TestErrorsAreModeled(t *testing.T) {
	t.Parallel()
	allowed := map[string][]string{
		// resolveARN's not-found exceptions become InvalidArnException.
		"ListTagsForResource": {cdapi.ApplicationDoesNotExistException, cdapi.DeploymentGroupDoesNotExistException},
		// targetGroups discards RevisionKey's errors (a target revision
		// that does not parse is nobody's target).
		"ListApplicationRevisions": {cdapi.RevisionRequiredException, cdapi.InvalidRevisionException},
	}

	modeled := modelErrors(t)
	exceptions := map[string]bool{}
	for _, errs := range modeled {
		for e := range errs {
			exceptions[e] = true
		}
	}

	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	refs := map[string]map[string]bool{}  // function -> exception constants
	calls := map[string]map[string]bool{} // function -> functions it calls
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			name := fn.Name.Name
			recv := ""
			if fn.Recv != nil && len(fn.Recv.List) > 0 && len(fn.Recv.List[0].Names) > 0 {
				recv = fn.Recv.List[0].Names[0].Name
			}
			refs[name], calls[name] = map[string]bool{}, map[string]bool{}
			var visit func(n ast.Node) bool
			visit = func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.SelectorExpr:
					if id, ok := x.X.(*ast.Ident); ok {
						switch {
						case id.Name == "cdapi" && exceptions[x.Sel.Name]:
							refs[name][x.Sel.Name] = true
						case recv != "" && id.Name == recv:
							calls[name][x.Sel.Name] = true // s.method
						}
					}
					// Not x.Sel: q.TagResource is the store's, not ours.
					ast.Inspect(x.X, visit)
					return false
				case *ast.Ident:
					calls[name][x.Name] = true // a package-level function
				}
				return true
			}
			ast.Inspect(fn.Body, visit)
		}
	}
	closure := func(start string) map[string]bool {
		seen, out := map[string]bool{}, map[string]bool{}
		var walk func(string)
		walk = func(f string) {
			if seen[f] {
				return
			}
			seen[f] = true
			maps.Copy(out, refs[f])
			for c := range calls[f] {
				if _, ok := refs[c]; ok {
					walk(c)
				}
			}
		}
		walk(start)
		return out
	}

	handlers := 0
	for op := range modeled {
		if _, ok := refs[op]; !ok {
			continue // not implemented yet
		}
		handlers++
		for e := range closure(op) {
			if !modeled[op][e] && !slices.Contains(allowed[op], e) {
				t.Errorf("%s can return %s, which the model does not list for it (the SDKs would not decode it as a typed exception)", op, e)
			}
		}
	}
	if handlers < 30 {
		t.Errorf("found %d operation handlers, want the 32 implemented", handlers)
	}
}

// modelErrors returns the model's errors of each operation.
func modelErrors(t *testing.T) map[string]map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "cdapi", "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Operations map[string]struct {
			Errors []struct{ Shape string }
		}
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]bool{}
	for op, o := range m.Operations {
		out[op] = map[string]bool{}
		for _, e := range o.Errors {
			out[op][e.Shape] = true
		}
	}
	return out
}
