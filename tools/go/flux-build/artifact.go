package main

// artifact: what source-controller archives from a Git checkout (`flux-build artifact`).

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/fluxcd/pkg/sourceignore"
	"github.com/fluxcd/pkg/sourceignore/gitignore"
)

func artifactCommand(args []string) error {
	flags := flag.NewFlagSet("artifact", flag.ContinueOnError)
	ignore := flags.String("ignore", "", "the GitRepository's spec.ignore (gitignore syntax)")
	ignoreSet := false
	if err := flags.Parse(args); err != nil {
		return err
	}
	flags.Visit(func(f *flag.Flag) {
		if f.Name == "ignore" {
			ignoreSet = true
		}
	})
	if flags.NArg() != 2 {
		return errors.New("artifact needs CHECKOUT and ARTIFACT")
	}
	var spec *string
	if ignoreSet {
		spec = ignore
	}
	return writeArtifact(flags.Arg(0), flags.Arg(1), spec)
}

// writeArtifact copies the files of checkout that source-controller v1.9 would archive.
// It follows GitRepositoryReconciler.reconcileArtifact (source-controller
// internal/controller/gitrepository_controller.go): ignore patterns are the .sourceignore
// files of the checkout plus spec.ignore, and pkg/artifact (v0.18) storage.SourceIgnoreFilter and
// Storage.Archive: with no patterns the default exclusions apply, with patterns only the VCS
// ones are added in front of them; anything that is neither a regular file nor a folder
// (symlinks) is left out.
func writeArtifact(checkout, artifact string, specIgnore *string) error {
	dir, err := filepath.Abs(checkout)
	if err != nil {
		return err
	}
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return fmt.Errorf("invalid dir path: %s", dir)
	}
	domain := strings.Split(dir, string(filepath.Separator))
	patterns, err := sourceignore.LoadIgnorePatterns(dir, domain)
	if err != nil {
		return fmt.Errorf("failed to load source ignore patterns from repository: %w", err)
	}
	if specIgnore != nil {
		patterns = append(patterns, sourceignore.ReadPatterns(strings.NewReader(*specIgnore), domain)...)
	}
	matcher := sourceignore.NewDefaultMatcher(patterns, domain)
	if len(patterns) > 0 {
		matcher = sourceignore.NewMatcher(append(sourceignore.VCSPatterns(domain), patterns...))
	}
	return copyTree(dir, artifact, matcher)
}

func copyTree(dir, target string, matcher gitignore.Matcher) error {
	return filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if m := fi.Mode(); !(m.IsRegular() || m.IsDir()) {
			return nil
		}
		if matcher.Match(strings.Split(p, string(filepath.Separator)), fi.IsDir()) {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		out := filepath.Join(target, rel)
		if fi.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		return copyFile(p, out, fi.Mode().Perm())
	})
}

func copyFile(from, to string, mode os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
