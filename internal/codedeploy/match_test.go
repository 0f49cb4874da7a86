package codedeploy

import (
	"slices"
	"testing"
	"time"

	"github.com/slipway-cd/slipway/internal/cdapi"
	"github.com/slipway-cd/slipway/internal/store"
)

// inst is a registered instance with tags given as key, value, key, value...
func inst(name string, kv ...string) *store.OnPremisesInstance {
	i := &store.OnPremisesInstance{Name: name, Registered: time.Unix(1, 0)}
	for k := 0; k+1 < len(kv); k += 2 {
		i.Tags = append(i.Tags, store.Tag{Key: kv[k], Value: kv[k+1]})
	}
	return i
}

func kv(key, value string) cdapi.TagFilter {
	return cdapi.TagFilter{Key: key, Value: value, Type: cdapi.TagFilterTypeKeyAndValue}
}

func keyOnly(key string) cdapi.TagFilter {
	return cdapi.TagFilter{Key: key, Type: cdapi.TagFilterTypeKeyOnly}
}

func valueOnly(value string) cdapi.TagFilter {
	return cdapi.TagFilter{Value: value, Type: cdapi.TagFilterTypeValueOnly}
}

func filters(fs ...cdapi.TagFilter) *cdapi.DeploymentGroupInfo {
	return &cdapi.DeploymentGroupInfo{OnPremisesInstanceTagFilters: fs}
}

func tagSet(groups ...[]cdapi.TagFilter) *cdapi.DeploymentGroupInfo {
	return &cdapi.DeploymentGroupInfo{OnPremisesTagSet: &cdapi.OnPremisesTagSet{OnPremisesTagSetList: groups}}
}

func TestMatchInstances(t *testing.T) {
	t.Parallel()
	deregistered := inst("gone", "Name", "web")
	deregistered.Deregistered = time.Unix(2, 0)

	// The fleet of the guide's tag-set example 4 (§1.3.1), plus others.
	example4 := []*store.OnPremisesInstance{
		inst("in1", "Environment", "Beta", "Region", "North", "Type", "t2.medium"),
		inst("in2", "Environment", "Staging", "Region", "East", "Type", "t2.large"),
		inst("in3", "Environment", "Staging", "Region", "South", "Type", "t2.large"),
		inst("out1", "Environment", "Beta", "Region", "West", "Type", "t2.medium"),
		inst("out2", "Environment", "Staging", "Region", "East", "Type", "t2.micro"),
		inst("out3", "Environment", "Production", "Region", "South", "Type", "t2.large"),
	}
	fleet := []*store.OnPremisesInstance{
		inst("a", "Name", "web", "Env", "prod"),
		inst("b", "Name", "db"),
		inst("c", "Role", "web"),
		inst("d"),
		inst("e", "name", "web"), // keys are case-sensitive
		inst("f", "Name", "Web"), // values are case-sensitive
		deregistered,
	}

	for _, tc := range []struct {
		name      string
		group     *cdapi.DeploymentGroupInfo
		instances []*store.OnPremisesInstance
		want      []string
	}{
		{"no filters select nothing", &cdapi.DeploymentGroupInfo{}, fleet, nil},
		{"nil group selects nothing", nil, fleet, nil},
		{"empty tag set selects nothing", tagSet(), fleet, nil},
		{"KEY_AND_VALUE", filters(kv("Name", "web")), fleet, []string{"a"}},
		{"KEY_ONLY", filters(keyOnly("Name")), fleet, []string{"a", "b", "f"}},
		{"VALUE_ONLY", filters(valueOnly("web")), fleet, []string{"a", "c", "e"}},
		{"filters are ORed", filters(kv("Name", "db"), kv("Role", "web")), fleet, []string{"b", "c"}},
		{"OR of all three types", filters(keyOnly("Env"), valueOnly("db"), kv("Role", "web")), fleet, []string{"a", "b", "c"}},
		{"no match", filters(kv("Name", "cache")), fleet, nil},
		{"deregistered never", filters(keyOnly("Name")), []*store.OnPremisesInstance{deregistered}, nil},
		{"wildcard value", filters(kv("Name", "GRP-*a")),
			[]*store.OnPremisesInstance{inst("1", "Name", "GRP-1a"), inst("2", "Name", "GRP-2a"), inst("3", "Name", "GRP-XYZ-a"), inst("4", "Name", "GRP-1b"), inst("5", "Name", "grp-1a")},
			[]string{"1", "2", "3"}},
		{"wildcard VALUE_ONLY", filters(valueOnly("*web*")), fleet, []string{"a", "c", "e"}},
		{"star alone matches any value", filters(kv("Name", "*")), fleet, []string{"a", "b", "f"}},
		{"untyped filter by what it has", filters(cdapi.TagFilter{Key: "Name", Value: "db"}, cdapi.TagFilter{Key: "Role"}), fleet, []string{"b", "c"}},

		// Tag sets: AND across groups, OR within (§1.3, §1.3.1).
		{"example 1: one group, one tag", tagSet([]cdapi.TagFilter{kv("Name", "AppVersion-ABC")}),
			[]*store.OnPremisesInstance{inst("x", "Name", "AppVersion-ABC"), inst("y", "Name", "AppVersion-DEF")}, []string{"x"}},
		{"example 2: one group ORs", tagSet([]cdapi.TagFilter{kv("Region", "North"), kv("Region", "South"), kv("Region", "East")}),
			[]*store.OnPremisesInstance{inst("n", "Region", "North"), inst("s", "Region", "South"), inst("e", "Region", "East"), inst("w", "Region", "West")},
			[]string{"n", "s", "e"}},
		{"example 3: three groups AND", tagSet([]cdapi.TagFilter{kv("Name", "AppVersion-ABC")}, []cdapi.TagFilter{kv("Region", "North")}, []cdapi.TagFilter{kv("Type", "t2.medium")}),
			[]*store.OnPremisesInstance{
				inst("all", "Name", "AppVersion-ABC", "Region", "North", "Type", "t2.medium", "Extra", "ignored"),
				inst("two", "Name", "AppVersion-ABC", "Region", "North"),
				inst("one", "Type", "t2.medium"),
			}, []string{"all"}},
		{"example 4", tagSet(
			[]cdapi.TagFilter{kv("Environment", "Beta"), kv("Environment", "Staging")},
			[]cdapi.TagFilter{kv("Region", "North"), kv("Region", "South"), kv("Region", "East")},
			[]cdapi.TagFilter{kv("Type", "t2.medium"), kv("Type", "t2.large")},
		), example4, []string{"in1", "in2", "in3"}},
		{"set mixes filter types", tagSet([]cdapi.TagFilter{keyOnly("Environment")}, []cdapi.TagFilter{valueOnly("t2.large")}),
			example4, []string{"in2", "in3", "out3"}},
		{"set with an empty group selects nothing", tagSet([]cdapi.TagFilter{keyOnly("Environment")}, []cdapi.TagFilter{}), example4, nil},
		{"set wins over filters", &cdapi.DeploymentGroupInfo{
			OnPremisesInstanceTagFilters: []cdapi.TagFilter{keyOnly("Name")},
			OnPremisesTagSet:             &cdapi.OnPremisesTagSet{OnPremisesTagSetList: [][]cdapi.TagFilter{{kv("Role", "web")}}},
		}, fleet, []string{"c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := MatchInstances(tc.group, tc.instances)
			if got == nil {
				t.Fatal("nil result, want a non-nil slice")
			}
			names := []string{}
			for _, i := range got {
				names = append(names, i.Name)
			}
			if want := append([]string{}, tc.want...); !slices.Equal(names, want) {
				t.Errorf("MatchInstances = %q, want %q", names, want)
			}
		})
	}
}

func TestWildcardMatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything", true},
		{"abc", "abc", true},
		{"abc", "abC", false},
		{"a*", "a", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"*a*b*", "xxaxxbxx", true},
		{"*a*b*", "xxbxxaxx", false},
		{"GRP-*a", "GRP-XYZ-a", true},
		{"GRP-*a", "GRP-a", true},
		{"GRP-*a", "GRP-ab", false},
		{"**", "x", true},
		{"ä*ö", "äxyö", true},
		{"a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
	} {
		if got := wildcardMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("wildcardMatch(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}
