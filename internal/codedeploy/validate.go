package codedeploy

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cdapi"
	"github.com/slipway-cd/slipway/internal/store"
)

// checkTagFilter checks one on-premises tag filter: its type says which of
// Key and Value it has (KEY_ONLY: a key and no value; VALUE_ONLY: a value
// and no key; KEY_AND_VALUE: both), within the tag length quotas. code is
// the exception to report (InvalidTagException for deployment groups,
// InvalidTagFilterException for ListOnPremisesInstances).
func checkTagFilter(f cdapi.TagFilter, where, code string) error {
	if n := utf8.RuneCountInString(f.Key); n > maxTagKey {
		return awsproto.Errorf(code, "%s: the key has %d characters; at most %d are allowed", where, n, maxTagKey)
	}
	if n := utf8.RuneCountInString(f.Value); n > maxTagValue {
		return awsproto.Errorf(code, "%s: the value has %d characters; at most %d are allowed", where, n, maxTagValue)
	}
	switch f.Type {
	case cdapi.TagFilterTypeKeyOnly:
		if f.Key == "" || f.Value != "" {
			return awsproto.Errorf(code, "%s: a KEY_ONLY filter has a Key and no Value", where)
		}
	case cdapi.TagFilterTypeValueOnly:
		if f.Value == "" || f.Key != "" {
			return awsproto.Errorf(code, "%s: a VALUE_ONLY filter has a Value and no Key", where)
		}
	case cdapi.TagFilterTypeKeyAndValue:
		if f.Key == "" || f.Value == "" {
			return awsproto.Errorf(code, "%s: a KEY_AND_VALUE filter has both a Key and a Value", where)
		}
	case "":
		return awsproto.Errorf(code, "%s: the filter has no Type; use KEY_ONLY, VALUE_ONLY or KEY_AND_VALUE", where)
	default:
		return awsproto.Errorf(code, "%s: unknown Type %q; use KEY_ONLY, VALUE_ONLY or KEY_AND_VALUE", where, f.Type)
	}
	return nil
}

// checkResourceTags checks the tags of TagResource, CreateApplication and
// CreateDeploymentGroup: keys of 1 to 128 characters without the reserved
// aws: prefix, values of at most 256, no key twice.
func checkResourceTags(tags []cdapi.Tag) error {
	seen := map[string]bool{}
	for i, t := range tags {
		switch n := utf8.RuneCountInString(t.Key); {
		case n == 0:
			return awsproto.Errorf(cdapi.InvalidTagsToAddException, "tag %d has no Key", i+1)
		case n > maxTagKey:
			return awsproto.Errorf(cdapi.InvalidTagsToAddException, "tag key %q has %d characters; at most %d are allowed", t.Key, n, maxTagKey)
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return awsproto.Errorf(cdapi.InvalidTagsToAddException, "tag key %q uses the reserved prefix \"aws:\"", t.Key)
		}
		if n := utf8.RuneCountInString(t.Value); n > maxTagValue {
			return awsproto.Errorf(cdapi.InvalidTagsToAddException, "the value of tag %q has %d characters; at most %d are allowed", t.Key, n, maxTagValue)
		}
		if seen[t.Key] {
			return awsproto.Errorf(cdapi.InvalidTagsToAddException, "tag key %q is given twice", t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

// checkInstanceTags checks tags for on-premises instances: both key and
// value are required for AddTags ("CodeDeploy does not allow on-premises
// instance tags that have values only", §1.3; "Both key and value are
// required", §7.4); RemoveTags needs only the key (valueRequired false).
func checkInstanceTags(tags []cdapi.Tag, valueRequired bool) error {
	if len(tags) == 0 {
		return awsproto.Errorf(cdapi.TagRequiredException, "no tags given")
	}
	seen := map[string]bool{}
	for i, t := range tags {
		switch {
		case t.Key == "":
			return awsproto.Errorf(cdapi.InvalidTagException, "tag %d has no Key; on-premises instance tags need both a Key and a Value", i+1)
		case valueRequired && t.Value == "":
			return awsproto.Errorf(cdapi.InvalidTagException, "tag %q has no Value; on-premises instance tags need both a Key and a Value", t.Key)
		case utf8.RuneCountInString(t.Key) > maxTagKey:
			return awsproto.Errorf(cdapi.InvalidTagException, "tag key %q is longer than %d characters", t.Key, maxTagKey)
		case utf8.RuneCountInString(t.Value) > maxTagValue:
			return awsproto.Errorf(cdapi.InvalidTagException, "the value of tag %q is longer than %d characters", t.Key, maxTagValue)
		case seen[t.Key] && valueRequired:
			return awsproto.Errorf(cdapi.InvalidTagException, "tag key %q is given twice; an instance has one value per key", t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

func storeTags(tags []cdapi.Tag) []store.Tag {
	out := make([]store.Tag, len(tags))
	for i, t := range tags {
		out[i] = store.Tag{Key: t.Key, Value: t.Value}
	}
	return out
}

func wireTags(tags []store.Tag) []cdapi.Tag {
	out := make([]cdapi.Tag, len(tags))
	for i, t := range tags {
		out[i] = cdapi.Tag{Key: t.Key, Value: t.Value}
	}
	return out
}

// checkInstanceName enforces what the guide says of on-premises instance
// names: ":" is not allowed (so a MAC address is not a name, §7.1).
func checkInstanceName(name string) error {
	switch {
	case name == "":
		return awsproto.Errorf(cdapi.InstanceNameRequiredException, "an instance name is required")
	case strings.Contains(name, ":"):
		return awsproto.Errorf(cdapi.InvalidInstanceNameException, "instance name %q contains \":\", which is not allowed (a MAC address is not a valid name; use an asset tag or serial number)", name)
	case utf8.RuneCountInString(name) > maxInstanceNameLength:
		return awsproto.Errorf(cdapi.InvalidInstanceNameException, "instance name %q is longer than %d characters", name, maxInstanceNameLength)
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return awsproto.Errorf(cdapi.InvalidInstanceNameException, "instance name %q contains a control character", name)
	}
	return nil
}

// where formats a position in a list for messages: "onPremisesInstanceTagFilters[2]".
func where(list string, i int) string { return fmt.Sprintf("%s[%d]", list, i) }
