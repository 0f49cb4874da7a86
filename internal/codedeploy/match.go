package codedeploy

import (
	"github.com/slipway-cd/slipway/internal/cdapi"
	"github.com/slipway-cd/slipway/internal/store"
)

// MatchInstances returns the instances a deployment group targets, in the
// order given: the registered instances its on-premises tag filters or tag
// set select. A deregistered instance is never selected, even if its tags
// match (§7.5); a group with neither filters nor a tag set selects none.
//
// The semantics are the guide's (§1.3, §1.3.1):
//   - onPremisesInstanceTagFilters are one tag group; onPremisesTagSet is
//     up to three tag groups.
//   - Within a tag group the filters are ORed: an instance with a tag
//     matching at least one filter is in the group.
//   - Across tag groups they are ANDed: an instance must be in every group.
//   - Extra tags on an instance do not matter.
//
// A filter matches a tag by its Type: KEY_ONLY by key (any value),
// VALUE_ONLY by value (any key), KEY_AND_VALUE by both. Keys compare
// exactly; values are case-sensitive and "*" in a filter's Value matches any
// run of characters ("GRP-*a" matches GRP-1a and GRP-XYZ-a). A filter
// without a Type matches by whichever of Key and Value it has.
func MatchInstances(group *cdapi.DeploymentGroupInfo, instances []*store.OnPremisesInstance) []*store.OnPremisesInstance {
	out := []*store.OnPremisesInstance{}
	groups := tagGroups(group)
	if len(groups) == 0 {
		return out
	}
	for _, in := range instances {
		if in != nil && in.IsRegistered() && matchTagSet(groups, in.Tags) {
			out = append(out, in)
		}
	}
	return out
}

// tagGroups returns the group's tag groups: the tag set's, or the filters
// as one group.
func tagGroups(g *cdapi.DeploymentGroupInfo) [][]cdapi.TagFilter {
	switch {
	case g == nil:
		return nil
	case g.OnPremisesTagSet != nil && len(g.OnPremisesTagSet.OnPremisesTagSetList) > 0:
		return g.OnPremisesTagSet.OnPremisesTagSetList
	case len(g.OnPremisesInstanceTagFilters) > 0:
		return [][]cdapi.TagFilter{g.OnPremisesInstanceTagFilters}
	}
	return nil
}

// matchTagSet reports whether tags match every tag group.
func matchTagSet(groups [][]cdapi.TagFilter, tags []store.Tag) bool {
	for _, g := range groups {
		if !MatchTagGroup(g, tags) {
			return false
		}
	}
	return true
}

// MatchTagGroup reports whether tags match at least one filter of a tag
// group (see MatchInstances).
func MatchTagGroup(filters []cdapi.TagFilter, tags []store.Tag) bool {
	for _, f := range filters {
		for _, t := range tags {
			if matchTag(f, t) {
				return true
			}
		}
	}
	return false
}

// matchTag reports whether one filter matches one tag.
func matchTag(f cdapi.TagFilter, t store.Tag) bool {
	typ := f.Type
	if typ == "" {
		switch {
		case f.Key != "" && f.Value != "":
			typ = cdapi.TagFilterTypeKeyAndValue
		case f.Key != "":
			typ = cdapi.TagFilterTypeKeyOnly
		case f.Value != "":
			typ = cdapi.TagFilterTypeValueOnly
		default:
			return false
		}
	}
	switch typ {
	case cdapi.TagFilterTypeKeyOnly:
		return t.Key == f.Key
	case cdapi.TagFilterTypeValueOnly:
		return wildcardMatch(f.Value, t.Value)
	case cdapi.TagFilterTypeKeyAndValue:
		return t.Key == f.Key && wildcardMatch(f.Value, t.Value)
	}
	return false
}

// wildcardMatch reports whether s matches pattern, in which "*" matches
// any run of characters (none included) and everything else itself.
// Greedy with backtracking to the last star: linear in practice, at worst
// len(pattern)*len(s).
func wildcardMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
