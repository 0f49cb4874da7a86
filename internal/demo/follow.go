package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// follower prints the demo pipeline's state changes as the extension
// API's event log records them.
type follower struct {
	d       *Demo
	w       io.Writer
	afterID int64
}

// lastEventID returns the ID of the demo pipeline's last event, 0 for
// none.
func lastEventID(ctx context.Context, ext *slipwayapi.Client) (int64, error) {
	var after int64
	for {
		out, err := ext.ListEvents(ctx, &slipwayapi.ListEventsInput{PipelineName: PipelineName, AfterID: after, MaxResults: 1000})
		if err != nil {
			return 0, err
		}
		after = out.NextAfterID
		if len(out.Events) < 1000 {
			return after, nil
		}
	}
}

// run polls the event log every second until ctx ends.
func (f *follower) run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	failing := false
	for {
		out, err := f.d.ext.ListEvents(ctx, &slipwayapi.ListEventsInput{PipelineName: PipelineName, AfterID: f.afterID, MaxResults: 100})
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if !failing {
				fmt.Fprintf(f.w, "(reading the pipeline's events failed: %v; retrying)\n", err)
			}
			failing = true
		default:
			failing = false
			for _, e := range out.Events {
				if line := f.d.describe(e); line != "" {
					fmt.Fprint(f.w, line)
				}
			}
			f.afterID = out.NextAfterID
			if len(out.Events) == 100 {
				continue // more to read now
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// eventDetail is the part of an execution, stage or action state change
// the demo prints.
type eventDetail struct {
	Detail struct {
		ExecutionID string `json:"execution-id"`
		Stage       string `json:"stage"`
		Action      string `json:"action"`
		State       string `json:"state"`
	} `json:"detail"`
}

// describe returns the lines to print for one event, or "".
func (d *Demo) describe(e slipwayapi.Event) string {
	var ev eventDetail
	if err := json.Unmarshal(e.Detail, &ev); err != nil {
		return ""
	}
	det := ev.Detail
	at := time.Now()
	if e.Time != nil {
		at = e.Time.Time
	}
	stamp := at.Local().Format("15:04:05")
	exec := det.ExecutionID
	if len(exec) > 8 {
		exec = exec[:8]
	}
	switch e.DetailType {
	case "CodePipeline Pipeline Execution State Change":
		line := fmt.Sprintf("%s  %-8s  %-18s %s\n", stamp, exec, "execution", det.State)
		if det.State == "SUCCEEDED" {
			line += "                    deployed to " + strings.Join(InstanceNames, " and ") + ":\n"
			for _, a := range d.Agents {
				line += "                      " + a.InstallDir + "/srv/demo-app/index.html\n"
			}
		}
		return line
	case "CodePipeline Action Execution State Change":
		line := fmt.Sprintf("%s  %-8s  %-18s %s\n", stamp, exec, det.Stage+"/"+det.Action, det.State)
		if det.Stage == ApprovalStage && det.Action == ApprovalAction && det.State == "STARTED" {
			line += "                    waiting for your approval:\n                    " + d.approveCommand() + "\n"
		}
		return line
	}
	return ""
}
