package appspec

import (
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// hooks reads the hooks section (codedeploy.md §4.5). An empty section is
// allowed, as the agent reads it as no hooks.
func (p *parser) hooks(n *yaml.Node) error {
	if err := checkAlias(n, "hooks"); err != nil {
		return err
	}
	if isNull(n) {
		p.warn(n.Line, "hooks is empty, so no scripts run; remove the hooks key if that is intended")
		return nil
	}
	ps, err := mapping(n, "hooks", "event names such as \"  AfterInstall:\", each with a list of scripts")
	if err != nil {
		return err
	}
	for _, kv := range ps {
		if err := p.event(kv); err != nil {
			return err
		}
	}
	return nil
}

// event reads the scripts of one lifecycle event.
func (p *parser) event(kv pair) error {
	e := Event(kv.name)
	if msg := checkEvent(e); msg != "" {
		return errAt(kv.key.Line, "hooks: %s", msg)
	}
	where := "hooks." + kv.name
	items, err := scriptList(kv, where)
	if err != nil {
		return err
	}
	scripts := make([]Script, 0, len(items))
	for _, item := range items {
		s, err := p.script(item, where)
		if err != nil {
			return err
		}
		scripts = append(scripts, s)
	}
	p.spec.Hooks[e] = scripts
	p.checkEventTimeout(kv, scripts)
	return nil
}

// scriptList returns the script entries of an event. Unlike other empty
// values, an empty event fails on the agent (it calls each on nil).
func scriptList(kv pair, where string) ([]*yaml.Node, error) {
	n := kv.value
	if err := checkAlias(n, where); err != nil {
		return nil, err
	}
	switch {
	case isNull(n):
		return nil, errAt(kv.key.Line, "%s has no scripts; list them below it as "+
			"\"- location: scripts/run.sh\", or remove the event", where)
	case n.Kind == yaml.MappingNode:
		return nil, errAt(n.Line, "%s must be a list of scripts, but it is a mapping; "+
			"put \"- \" before location, as in \"- location: scripts/run.sh\"", where)
	case n.Kind != yaml.SequenceNode:
		return nil, errAt(n.Line, "%s must be a list of scripts, but it is %s; write "+
			"\"- location: scripts/run.sh\" on the next line, indented", where, describe(n))
	}
	return n.Content, nil
}

// checkEvent returns why e may not appear in a hooks section, or "".
func checkEvent(e Event) string {
	valid := "the scriptable events are " + eventList()
	switch {
	case e.Scriptable():
		return ""
	case e.Reserved():
		return string(e) + " is reserved for the agent and cannot run scripts; " +
			"use an event around it instead (" + valid + ")"
	case e == "AfterAllowTestTraffic" || e == "BeforeAllowTestTraffic":
		return string(e) + " is an ECS lifecycle event; " + valid
	}
	if want := closestEvent(e); want != "" {
		return "unknown lifecycle event " + keyName(string(e)) + "; did you mean " + string(want) +
			"? (event names are case-sensitive)"
	}
	return "unknown lifecycle event " + keyName(string(e)) + "; " + valid
}

// closestEvent returns the scriptable event e most likely misspells, or "".
func closestEvent(e Event) Event {
	names := make([]string, 0, 9)
	for _, s := range ScriptableEvents() {
		names = append(names, string(s))
	}
	return Event(closest(string(e), names))
}

// eventList names the scriptable events for messages.
func eventList() string {
	names := make([]string, 0, 9)
	for _, e := range ScriptableEvents() {
		names = append(names, string(e))
	}
	return strings.Join(names, ", ")
}

// script reads one script entry.
func (p *parser) script(n *yaml.Node, where string) (Script, error) {
	ps, err := mapping(n, where+" script", "\"- location: scripts/run.sh\"")
	if err != nil {
		return Script{}, err
	}
	s := Script{Line: n.Line, Timeout: DefaultTimeout}
	rule := keyRule{where: where, known: []string{"location", "timeout", "runas", "sudo"}}
	for _, kv := range ps {
		if err := p.scriptKey(&s, kv, rule); err != nil {
			return Script{}, err
		}
	}
	if s.Location == "" {
		return Script{}, errAt(n.Line, "%s: a script has no location; add location: with "+
			"the script's path relative to the bundle root, e.g. location: scripts/start.sh", where)
	}
	return s, nil
}

// scriptKey reads one key of a script entry.
func (p *parser) scriptKey(s *Script, kv pair, rule keyRule) error {
	switch kv.name {
	case "location":
		return p.location(s, kv.value, rule.where)
	case "timeout":
		return parseTimeout(s, kv.value, rule.where)
	case "runas":
		return p.runAs(s, kv.value, rule.where)
	case "sudo":
		return parseSudo(s, kv.value, rule.where)
	}
	return p.unknown(kv, rule)
}

// location reads a script's location; the agent strips it.
func (p *parser) location(s *Script, n *yaml.Node, where string) error {
	v, err := scalar(n, where+": location", "location: scripts/start.sh")
	if err != nil {
		return err
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return errAt(n.Line, "%s: location is blank; give the script's path relative to "+
			"the bundle root, e.g. location: scripts/start.sh", where)
	}
	rel, err := bundlePath(v, p.spec.OS)
	if err != nil {
		return errAt(n.Line, "%s: location %s %s", where, quote(v), err.Error())
	}
	if rel == "." {
		return errAt(n.Line, "%s: location %s is the bundle root, not a script; give the "+
			"script's path, e.g. location: scripts/start.sh", where, quote(v))
	}
	s.Location, s.BundlePath = v, rel
	return nil
}

// parseTimeout reads a script's timeout in whole seconds, 1 to 3600. An
// empty value means the default, as the agent reads nil.
func parseTimeout(s *Script, n *yaml.Node, where string) error {
	if err := checkAlias(n, where+": timeout"); err != nil {
		return err
	}
	if isNull(n) {
		return nil
	}
	v, err := scalar(n, where+": timeout", "timeout: 300")
	if err != nil {
		return err
	}
	secs, msg := timeoutSeconds(strings.TrimSpace(v))
	if msg != "" {
		return errAt(n.Line, "%s: timeout %s %s", where, quote(v), msg)
	}
	s.Timeout, s.TimeoutSet = time.Duration(secs)*time.Second, true
	return nil
}

// timeoutSeconds parses a timeout, or says what is wrong with it.
func timeoutSeconds(v string) (int, string) {
	const fix = "; give whole seconds from 1 to 3600, e.g. timeout: 300"
	if v == "" || strings.Trim(v, "0123456789") != "" {
		return 0, "is not a whole number of seconds" + fix
	}
	if len(v) > 1 && v[0] == '0' {
		return 0, "has a leading zero, which YAML 1.1 (used by the agent) reads as an " +
			"octal number" + fix
	}
	secs, err := strconv.Atoi(v)
	switch {
	case err != nil || secs > int(MaxTimeout/time.Second):
		return 0, "is more than 3600 seconds, the longest a lifecycle event may run" + fix
	case secs == 0:
		return 0, "must be more than 0" + fix
	}
	return secs, ""
}

// runAs reads a script's runas user. The agent builds "su <user> -c
// <script>" from it, so it must be a plain account name.
func (p *parser) runAs(s *Script, n *yaml.Node, where string) error {
	if isNull(n) {
		return nil
	}
	v, err := scalar(n, where+": runas", "runas: ec2-user")
	if err != nil {
		return err
	}
	v = strings.TrimSpace(v)
	if msg := checkAccount(v); msg != "" {
		return errAt(n.Line, "%s: runas %s %s", where, quote(v), msg)
	}
	if p.spec.OS == OSWindows {
		p.warn(n.Line, "%s: runas is not supported on Windows and is ignored", where)
	}
	s.RunAs = v
	return nil
}

// parseSudo reads the agent's sudo flag; YAML 1.1 spellings of true and
// false are accepted, as the agent's YAML reads them.
func parseSudo(s *Script, n *yaml.Node, where string) error {
	if isNull(n) {
		return nil
	}
	v, err := scalar(n, where+": sudo", "sudo: true")
	if err != nil {
		return err
	}
	switch strings.ToLower(v) {
	case "true", "yes", "on":
		s.Sudo = true
	case "false", "no", "off":
		s.Sudo = false
	default:
		return errAt(n.Line, "%s: sudo %s is not true or false; write sudo: true, or remove it",
			where, quote(v))
	}
	return nil
}

// checkEventTimeout warns when the timeouts given for one event add up to
// more than an event may run (codedeploy.md §4.5: "Make sure the total
// number of seconds specified in timeout for all scripts in each deployment
// lifecycle event does not exceed this limit"). Scripts without a timeout
// are not counted: the guide's own WordPress sample has one next to a
// 300-second script.
func (p *parser) checkEventTimeout(kv pair, scripts []Script) {
	var total time.Duration
	for _, s := range scripts {
		if s.TimeoutSet {
			total += s.Timeout
		}
	}
	if total > MaxTimeout {
		p.warn(kv.key.Line, "hooks.%s: the script timeouts add up to %d seconds, but a "+
			"lifecycle event fails after 3600 seconds; lower them", kv.name, int(total/time.Second))
	}
}

// checkAccount returns why v is not a plain user or group name (letters,
// digits, ".", "_", "-", not starting with "-", optionally ending in "$"),
// or "".
func checkAccount(v string) string {
	const fix = "is not a plain account name; use letters, digits, '.', '_' and '-' only"
	if v == "" {
		return "is blank; name an account or remove the key"
	}
	if len(v) > 256 || v[0] == '-' {
		return fix
	}
	for i, r := range v {
		ok := r == '.' || r == '_' || r == '-' || (r == '$' && i == len(v)-1) ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !ok {
			return fix
		}
	}
	return ""
}
