package gitsource

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/engine"
	"github.com/slipway-cd/slipway/internal/store"
)

// Provider is the provider of the source actions that read connections.
const Provider = "CodeStarSourceConnection"

// DefaultInterval is how often the poller lists the watched remotes when
// Poller.Interval is not set.
const DefaultInterval = time.Minute

// lsRemoteTimeout bounds one listing of a remote.
const lsRemoteTimeout = time.Minute

// parallelRemotes is how many remotes one round lists at once.
const parallelRemotes = 4

// Starter starts pipeline executions (*engine.Engine is one).
type Starter interface {
	StartExecution(ctx context.Context, name string, p engine.StartParams) (string, error)
}

// TriggerMatcher reports whether a push of ref satisfies the git
// configuration of a V2 trigger on a source action whose configured branch
// is defaultBranch; changed lists the files the push changed (called only
// when a file path filter needs them).
type TriggerMatcher func(git *cpapi.GitConfiguration, defaultBranch, ref string, changed func() []string) bool

// Poller detects new commits on the remotes that pipelines watch and
// starts the pipelines, pinned to the new commits.
//
// Every Interval (measured from the end of one round to the start of the
// next) it reads every pipeline and collects its watchers: the
// CodeStarSourceConnection source actions whose DetectChanges is not
// "false" — in a pipeline with triggers only the actions that a trigger
// names, with a push filter. It lists each distinct remote URL once per
// round (one `git ls-remote --heads --tags`, however many pipelines watch
// it) and compares every branch and tag with the commit stored for it
// (store.SourcePollState). The first listing of a remote only records
// what it saw: the pipelines' creation started them already. Afterwards,
// a ref that moved (or appeared) starts, once per pipeline:
//
//   - a pipeline without triggers whose action's BranchName is the branch
//     (trigger type PollForSourceChanges);
//   - a pipeline whose trigger for the action matches the push (Matches;
//     trigger type WebhookV2).
//
// Each start carries a client token made of the remote, the ref and the
// old and new commits, so a round repeated after a crash (the state is
// recorded after the starts) starts nothing twice.
type Poller struct {
	Store    store.Store
	Engine   Starter
	Resolver *Resolver
	// Mirrors are synced when a file path filter needs the files a push
	// changed.
	Mirrors  *Mirrors
	Git      Runner        // nil: the git binary
	Interval time.Duration // default DefaultInterval
	// Matches decides V2 triggers; nil matches a push to the action's
	// BranchName only.
	Matches TriggerMatcher
	// ChangedFiles lists the files that differ between two commits of the
	// repository at dir (from is "" for a new ref); nil lists none, so file
	// path filters match nothing.
	ChangedFiles func(ctx context.Context, dir, from, to string) ([]string, error)
	Logger       *slog.Logger

	mu     sync.Mutex
	warned map[string]string // what was last logged about a watcher or remote
}

// watcher is a source action that polling starts.
type watcher struct {
	pipeline string
	action   string
	branch   string
	git      *cpapi.GitConfiguration // the action's trigger; nil in a pipeline without triggers
	remote   *Remote
}

// change is a ref that moved.
type change struct {
	ref, old, new string
	commit        string    // new, or the commit an annotated tag points at
	oldSeen       time.Time // when old was recorded (zero for a new ref)
}

func (p *Poller) log() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

// Run polls every Interval until ctx ends.
func (p *Poller) Run(ctx context.Context) error {
	interval := cmp.Or(p.Interval, DefaultInterval)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		if err := p.PollOnce(ctx); err != nil && ctx.Err() == nil {
			p.log().Error("source poll", "err", err)
		}
		timer.Reset(interval)
	}
}

// PollOnce runs one round: it lists every watched remote once and starts
// the pipelines whose watched refs moved.
func (p *Poller) PollOnce(ctx context.Context) error {
	byURL, err := p.watchers(ctx)
	if err != nil {
		return err
	}
	sem := make(chan struct{}, parallelRemotes)
	var wg sync.WaitGroup
	for _, url := range slices.Sorted(maps.Keys(byURL)) {
		ws := byURL[url]
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			p.pollRemote(ctx, ws)
		})
	}
	wg.Wait()
	return nil
}

// watchers returns the watchers of every pipeline by remote URL.
func (p *Poller) watchers(ctx context.Context) (map[string][]watcher, error) {
	pipes, err := p.Store.ListPipelines(ctx, store.Page{})
	if err != nil {
		return nil, fmt.Errorf("list pipelines: %w", err)
	}
	remotes := map[string]*Remote{} // by connection ARN and FullRepositoryId
	byURL := map[string][]watcher{}
	for _, pipe := range pipes {
		var decl cpapi.PipelineDeclaration
		if err := json.Unmarshal(pipe.Declaration, &decl); err != nil || len(decl.Stages) == 0 {
			continue
		}
		for _, a := range decl.Stages[0].Actions { // source actions are all in the first stage
			id := a.ActionTypeId
			if id == nil || id.Category != cpapi.ActionCategorySource || id.Owner != cpapi.ActionOwnerAws || id.Provider != Provider {
				continue
			}
			if strings.EqualFold(strings.TrimSpace(a.Configuration["DetectChanges"]), "false") {
				continue
			}
			w := watcher{pipeline: decl.Name, action: a.Name, branch: a.Configuration["BranchName"]}
			if len(decl.Triggers) > 0 {
				// With triggers, default change detection is off: only a
				// trigger naming the action starts it, and only a trigger
				// with push filters (or none at all) can match a push.
				if w.git = triggerFor(&decl, a.Name); w.git == nil || (len(w.git.Push) == 0 && len(w.git.PullRequest) > 0) {
					continue
				}
			}
			key := a.Configuration["ConnectionArn"] + "\x00" + a.Configuration["FullRepositoryId"]
			r, ok := remotes[key]
			if !ok {
				r, err = p.Resolver.Resolve(ctx, a.Configuration["ConnectionArn"], a.Configuration["FullRepositoryId"])
				if err != nil {
					p.warn("pipeline "+decl.Name+" action "+a.Name, "source poll: the action's connection cannot be used",
						err, "pipeline", decl.Name, "action", a.Name)
				}
				remotes[key] = r
			}
			if r == nil {
				continue
			}
			p.clearWarn("pipeline " + decl.Name + " action " + a.Name)
			w.remote = r
			byURL[r.URL] = append(byURL[r.URL], w)
		}
	}
	return byURL, nil
}

// triggerFor returns the git configuration of the trigger that names the
// source action, or nil.
func triggerFor(decl *cpapi.PipelineDeclaration, action string) *cpapi.GitConfiguration {
	for _, t := range decl.Triggers {
		if t.GitConfiguration != nil && t.GitConfiguration.SourceActionName == action {
			return t.GitConfiguration
		}
	}
	return nil
}

// pollRemote lists one remote, starts what its changes trigger and
// records what it saw.
func (p *Poller) pollRemote(ctx context.Context, ws []watcher) {
	// Any watcher's credentials serve: take those of the first connection
	// by ARN, so the choice is stable.
	slices.SortFunc(ws, func(a, b watcher) int {
		return cmp.Or(cmp.Compare(a.remote.ConnectionARN, b.remote.ConnectionARN), cmp.Compare(a.pipeline, b.pipeline), cmp.Compare(a.action, b.action))
	})
	remote := ws[0].remote
	log := p.log().With("remote", remote.URL)
	lctx, cancel := context.WithTimeout(ctx, lsRemoteTimeout)
	refs, err := LsRemote(lctx, runner(p.Git), remote)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			p.warn("remote "+remote.URL, "source poll: cannot list the remote", err, "remote", remote.URL)
		}
		return
	}
	p.clearWarn("remote " + remote.URL)
	states, err := p.Store.ListSourcePollStates(ctx, remote.URL)
	if err != nil {
		log.Error("source poll: read poll state", "err", err)
		return
	}
	seen, listed := map[string]*store.SourcePollState{}, false
	for _, s := range states {
		if s.Ref == "" {
			listed = true
		} else {
			seen[s.Ref] = s
		}
	}
	var changes []change
	for ref, obj := range refs {
		old := seen[ref]
		if strings.HasSuffix(ref, "^{}") || (old != nil && old.Commit == obj) {
			continue
		}
		c := change{ref: ref, new: obj, commit: obj}
		if old != nil {
			c.old, c.oldSeen = old.Commit, old.Updated
		}
		if peeled := refs[ref+"^{}"]; peeled != "" {
			c.commit = peeled
		}
		changes = append(changes, c)
	}
	slices.SortFunc(changes, func(a, b change) int { return cmp.Compare(a.ref, b.ref) })
	var gone []string
	for ref := range seen {
		if _, ok := refs[ref]; !ok {
			gone = append(gone, ref)
		}
	}
	if len(changes) == 0 && len(gone) == 0 && listed {
		return
	}
	if listed {
		for _, c := range changes {
			p.start(ctx, log, ws, c)
		}
	} else {
		log.Info("source poll: first listing of the remote recorded", "refs", len(changes))
	}
	err = p.Store.InTx(ctx, func(q store.Queries) error {
		if !listed {
			if err := q.PutSourcePollState(ctx, &store.SourcePollState{Remote: remote.URL}); err != nil {
				return err
			}
		}
		for _, c := range changes {
			if err := q.PutSourcePollState(ctx, &store.SourcePollState{Remote: remote.URL, Ref: c.ref, Commit: c.new}); err != nil {
				return err
			}
		}
		for _, ref := range gone {
			if err := q.DeleteSourcePollState(ctx, remote.URL, ref); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		log.Error("source poll: record poll state", "err", err)
	}
}

// start starts the pipelines that a change of one ref triggers: one
// execution per pipeline, pinning each of its matching actions to the
// commit.
func (p *Poller) start(ctx context.Context, log *slog.Logger, ws []watcher, c change) {
	changed := sync.OnceValue(func() []string { return p.changedFiles(ctx, log, ws[0].remote, c) })
	matches := p.Matches
	if matches == nil {
		matches = branchOnly
	}
	starts := map[string]*engine.StartParams{}
	var order []string
	for _, w := range ws {
		trigger := cpapi.TriggerTypePollForSourceChanges
		if w.git == nil {
			if c.ref != "refs/heads/"+w.branch {
				continue
			}
		} else {
			if !matches(w.git, w.branch, c.ref, changed) {
				continue
			}
			trigger = cpapi.TriggerTypeWebhookV2
		}
		sp := starts[w.pipeline]
		if sp == nil {
			sp = &engine.StartParams{TriggerType: trigger, TriggerDetail: w.remote.ConnectionARN,
				ClientToken: clientToken(w.remote.URL, c)}
			starts[w.pipeline] = sp
			order = append(order, w.pipeline)
		}
		sp.SourceRevisions = append(sp.SourceRevisions, cpapi.SourceRevisionOverride{
			ActionName: w.action, RevisionType: cpapi.SourceRevisionTypeCommitId, RevisionValue: c.commit})
	}
	for _, name := range order {
		id, err := p.Engine.StartExecution(ctx, name, *starts[name])
		if err != nil {
			log.Error("source poll: start execution", "pipeline", name, "ref", c.ref, "err", err)
			continue
		}
		log.Info("source poll started an execution", "pipeline", name, "execution", id, "ref", c.ref,
			"commit", c.commit, "trigger", starts[name].TriggerType)
	}
}

// branchOnly is the matcher without Matches: a push to the action's
// branch.
func branchOnly(_ *cpapi.GitConfiguration, defaultBranch, ref string, _ func() []string) bool {
	return ref == "refs/heads/"+defaultBranch
}

// changedFiles lists the files a change of a branch changed, from the
// remote's mirror (synced first).
func (p *Poller) changedFiles(ctx context.Context, log *slog.Logger, r *Remote, c change) []string {
	if p.ChangedFiles == nil || p.Mirrors == nil {
		return nil
	}
	dir, err := p.Mirrors.Sync(ctx, r)
	if err != nil {
		log.Error("source poll: fetch for changed files", "ref", c.ref, "err", err)
		return nil
	}
	files, err := p.ChangedFiles(ctx, dir, c.old, c.commit)
	if err != nil {
		log.Error("source poll: changed files", "ref", c.ref, "err", err)
	}
	return files
}

// clientToken identifies the start a change causes (a clientRequestToken:
// letters, digits and '-'): the same for a round repeated before its state
// was recorded, another for the same move of the ref at another time.
func clientToken(url string, c change) string {
	sum := sha256.Sum256([]byte(url + "\x00" + c.ref + "\x00" + c.old + "\x00" + c.new + "\x00" + strconv.FormatInt(c.oldSeen.UnixMilli(), 10)))
	return "poll-" + hex.EncodeToString(sum[:20])
}

// warn logs a problem of a watcher or remote when it differs from what was
// last logged for it, so a lasting problem is logged once, not every round.
func (p *Poller) warn(key, msg string, err error, args ...any) {
	p.mu.Lock()
	if p.warned == nil {
		p.warned = map[string]string{}
	}
	same := p.warned[key] == err.Error()
	p.warned[key] = err.Error()
	p.mu.Unlock()
	if !same {
		p.log().Warn(msg, append(args, "err", err)...)
	}
}

func (p *Poller) clearWarn(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.warned, key)
}
