package pipeline

import (
	"slices"

	"github.com/slipway-cd/slipway/internal/cpapi"
)

// Catalog is the set of action types pipelines may use: the built-in types
// plus the custom types a caller supplies. It is immutable once built and
// safe for concurrent use. A nil *Catalog holds the built-in types only.
type Catalog struct {
	types []cpapi.ActionType
	index map[typeKey]int
}

// typeKey identifies an action type by its four ActionTypeId members.
type typeKey struct {
	category, owner, provider, version string
}

func keyOf(id *cpapi.ActionTypeId) typeKey {
	return typeKey{id.Category, id.Owner, id.Provider, id.Version}
}

// Builtin returns the built-in action types, in the order ListActionTypes
// reports them. Each call returns a fresh copy the caller may modify.
func Builtin() []cpapi.ActionType {
	return builtinTypes()
}

// NewCatalog returns a catalogue of the built-in types and the given custom
// types (for example those created with CreateCustomActionType). The custom
// types are copied. A custom type with no id, or with the id of a type
// already in the catalogue, is ignored: custom types cannot replace
// built-in ones.
func NewCatalog(custom []cpapi.ActionType) *Catalog {
	c := &Catalog{index: make(map[typeKey]int)}
	for _, t := range builtinTypes() {
		c.add(t)
	}
	for _, t := range custom {
		c.add(deepCopy(t))
	}
	return c
}

func (c *Catalog) add(t cpapi.ActionType) {
	if t.Id == nil {
		return
	}
	k := keyOf(t.Id)
	if _, dup := c.index[k]; dup {
		return
	}
	c.index[k] = len(c.types)
	c.types = append(c.types, t)
}

// orBuiltin returns c, or a catalogue of the built-in types when c is nil.
func (c *Catalog) orBuiltin() *Catalog {
	if c == nil {
		return NewCatalog(nil)
	}
	return c
}

// Lookup returns a copy of the action type with the given id, and whether
// the catalogue holds it. The match is exact on category, owner, provider
// and version.
func (c *Catalog) Lookup(id cpapi.ActionTypeId) (*cpapi.ActionType, bool) {
	t := c.orBuiltin().find(&id)
	if t == nil {
		return nil, false
	}
	cp := deepCopy(*t)
	return &cp, true
}

// Types returns a copy of every action type in the catalogue: the built-in
// types first, then the custom types in the order given to [NewCatalog].
func (c *Catalog) Types() []cpapi.ActionType {
	return deepCopy(c.orBuiltin().types)
}

// find returns the catalogue's own entry for id, or nil.
func (c *Catalog) find(id *cpapi.ActionTypeId) *cpapi.ActionType {
	if id == nil {
		return nil
	}
	i, ok := c.index[keyOf(id)]
	if !ok {
		return nil
	}
	return &c.types[i]
}

// versions returns the sorted versions the catalogue has for the category,
// owner and provider of id.
func (c *Catalog) versions(id *cpapi.ActionTypeId) []string {
	var out []string
	for k := range c.index {
		if k.category == id.Category && k.owner == id.Owner && k.provider == id.Provider {
			out = append(out, k.version)
		}
	}
	slices.Sort(out)
	return out
}

// providers returns the sorted, distinct providers the catalogue has for a
// category and owner.
func (c *Catalog) providers(category, owner string) []string {
	var out []string
	for k := range c.index {
		if k.category == category && k.owner == owner && !slices.Contains(out, k.provider) {
			out = append(out, k.provider)
		}
	}
	slices.Sort(out)
	return out
}

// property returns the property of t named name, or nil.
func property(t *cpapi.ActionType, name string) *cpapi.ActionConfigurationProperty {
	for i := range t.ActionConfigurationProperties {
		if t.ActionConfigurationProperties[i].Name == name {
			return &t.ActionConfigurationProperties[i]
		}
	}
	return nil
}

// isSecret reports whether t declares name as a secret property.
func isSecret(t *cpapi.ActionType, name string) bool {
	p := property(t, name)
	return p != nil && p.Secret != nil && *p.Secret
}

func isTrue(b *bool) bool { return b != nil && *b }
