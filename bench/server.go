package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/jackc/pgx/v5"

	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// binaries are the built slipway and slipway-agent executables, shared by
// every server of a run.
type binaries struct {
	dir, slipway, agent string
}

var (
	binOnce sync.Once
	bins    binaries
)

// build compiles ./cmd/slipway and ./cmd/slipway-agent once per run.
func build() binaries {
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "slipway-bench-bin-")
		if err != nil {
			log.Fatal(err)
		}
		bins = binaries{dir: dir, slipway: filepath.Join(dir, "slipway"), agent: filepath.Join(dir, "slipway-agent")}
		for out, pkg := range map[string]string{bins.slipway: "./cmd/slipway", bins.agent: "./cmd/slipway-agent"} {
			progress("building %s", pkg)
			cmd := exec.Command("go", "build", "-o", out, pkg)
			cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
			if err := cmd.Run(); err != nil {
				log.Fatalf("build %s (run bench from the repository root): %v", pkg, err)
			}
		}
	})
	return bins
}

// server is a slipway server process with clients for its APIs.
type server struct {
	cmd      *exec.Cmd
	dir      string
	url      string
	dbName   string // PostgreSQL database made for this server, or ""
	database string // the DSN given to -database, or ""
	keyID    string
	secret   string
	client   *codepipeline.Client
	cd       *codedeploy.Client
	ext      *slipwayapi.Client
}

// startServer starts a server on a fresh data directory (and, with a
// PostgreSQL DSN, a fresh database made next to the DSN's), with extra
// server flags.
func startServer(database string, extra ...string) *server {
	b := build()
	dir, err := os.MkdirTemp("", "slipway-bench-")
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &server{dir: dir, url: "http://" + addr, database: database}
	args := []string{"server", "--listen", addr, "--data-dir", filepath.Join(dir, "data"), "--log-level", "warn",
		"--max-pipelines", "100000", "--max-custom-action-types", "100"}
	if database != "" {
		dsn, name, err := freshDatabase(database)
		if err != nil {
			log.Fatalf("-database: %v", err)
		}
		s.dbName = name
		args = append(args, "--database", dsn)
	}
	args = append(args, extra...)
	s.cmd = exec.Command(b.slipway, args...)
	logf, _ := os.Create(filepath.Join(dir, "server.log"))
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		log.Fatal(err)
	}
	for i := 0; ; i++ {
		if resp, err := http.Get(s.url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if i > 500 {
			log.Fatalf("server did not start; see %s", logf.Name())
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.keyID, s.secret = readCredentials(filepath.Join(dir, "data", "credentials"))
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	creds := credentials.NewStaticCredentialsProvider(s.keyID, s.secret, "")
	s.client = codepipeline.New(codepipeline.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.url), HTTPClient: hc,
		Credentials: creds, RetryMaxAttempts: 5})
	s.cd = codedeploy.New(codedeploy.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.url), HTTPClient: hc,
		Credentials: creds, RetryMaxAttempts: 5})
	s.ext = slipwayapi.New(s.url, "us-east-1", creds)
	return s
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	os.RemoveAll(s.dir)
	if s.dbName != "" {
		// The server's connections may take a moment to go away.
		var err error
		for try := 0; try < 10; try++ {
			if err = dropDatabase(s.database, s.dbName); err == nil {
				break
			}
			time.Sleep(time.Second)
		}
		if err != nil {
			progress("drop database %s: %v", s.dbName, err)
		}
	}
}

// dataDir is the server's --data-dir.
func (s *server) dataDir() string { return filepath.Join(s.dir, "data") }

// usage returns the server's CPU seconds (user+system) and RSS in MiB.
func (s *server) usage() (float64, float64) { return procUsage(s.cmd.Process.Pid) }

// procUsage returns a process's CPU seconds (user+system) and RSS in MiB.
func procUsage(pid int) (float64, float64) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0
	}
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	var rss float64
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			rss = kb / 1024
		}
	}
	return (ut + st) / 100, rss // clock ticks are 100 Hz on Linux
}

// childrenCPU returns the CPU seconds of a process's waited-for children
// (the hook scripts an agent ran).
func childrenCPU(pid int) float64 {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	cut, _ := strconv.ParseFloat(f[13], 64)
	cst, _ := strconv.ParseFloat(f[14], 64)
	return (cut + cst) / 100
}

// authURL is a hosted repository's clone URL with the admin key as basic
// credentials.
func (s *server) authURL(clone string) string {
	u, err := url.Parse(clone)
	if err != nil {
		log.Fatal(err)
	}
	u.User = url.UserPassword(s.keyID, s.secret)
	return u.String()
}

func readCredentials(path string) (string, string) {
	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	var id, secret string
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			id = strings.TrimSpace(v)
		case "aws_secret_access_key":
			secret = strings.TrimSpace(v)
		}
	}
	return id, secret
}

// freshDatabase creates an empty database on the PostgreSQL server of dsn
// and returns a DSN naming it.
func freshDatabase(dsn string) (string, string, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", "", fmt.Errorf("want a postgres:// URL, got %q", dsn)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "slipway_bench_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", "", fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", "", fmt.Errorf("create database %s (the role needs CREATEDB): %w", name, err)
	}
	u.Path = "/" + name
	return u.String(), name, nil
}

func dropDatabase(dsn, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name)
	return err
}

// progress reports what the run is doing on stderr.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func must[T any](v T, err error) T {
	if err != nil {
		log.Fatal(err)
	}
	return v
}
