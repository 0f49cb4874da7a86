//go:build !unix

package buildspec

import (
	"errors"
	"os/exec"
)

// procGroup is unavailable outside Unix: builds need process groups.
type procGroup struct{}

// startGroup reports that builds need a Unix system.
func startGroup(string, string) (*procGroup, error) {
	return nil, errors.New("running builds needs a Unix system with process groups")
}

func (g *procGroup) attach(*exec.Cmd) {}
func (g *procGroup) terminate()       {}
func (g *procGroup) kill()            {}
func (g *procGroup) close()           {}
