package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func write(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func listFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files
}

func checkout(t *testing.T) string {
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"a.yaml":                   "kind: A\n",
		".git/config":              "[core]\n",
		"logo.png":                 "png",
		".github/workflows/ci.yml": "on: push\n",
		"sub/secret.yaml":          "kind: S\n",
		"sub/ok.yaml":              "kind: O\n",
	})
	if err := os.Symlink("a.yaml", filepath.Join(dir, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Without ignore patterns source-controller drops VCS files, the default extensions and CI
// folders, and symlinks.
func TestArtifactAppliesTheDefaultExclusions(t *testing.T) {
	out := t.TempDir()
	if err := writeArtifact(checkout(t), out, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{"a.yaml", "sub/ok.yaml", "sub/secret.yaml"}
	if got := listFiles(t, out); !slices.Equal(got, want) {
		t.Fatalf("artifact files = %v, want %v", got, want)
	}
}

// With patterns (here spec.ignore) only the VCS exclusions stay in front of them: the default
// ones (*.png, .github/) no longer apply. This is what pkg/artifact's SourceIgnoreFilter does.
func TestArtifactWithIgnorePatternsDropsTheDefaults(t *testing.T) {
	out := t.TempDir()
	ignore := "sub/secret.yaml\n"
	if err := writeArtifact(checkout(t), out, &ignore); err != nil {
		t.Fatal(err)
	}
	want := []string{".github/workflows/ci.yml", "a.yaml", "logo.png", "sub/ok.yaml"}
	if got := listFiles(t, out); !slices.Equal(got, want) {
		t.Fatalf("artifact files = %v, want %v", got, want)
	}
}

func TestArtifactReadsSourceignoreFiles(t *testing.T) {
	dir := checkout(t)
	write(t, dir, map[string]string{"sub/.sourceignore": "secret.yaml\n"})
	out := t.TempDir()
	if err := writeArtifact(dir, out, nil); err != nil {
		t.Fatal(err)
	}
	if got := listFiles(t, out); slices.Contains(got, "sub/secret.yaml") || !slices.Contains(got, "sub/ok.yaml") {
		t.Fatalf("artifact files = %v: sub/.sourceignore must drop sub/secret.yaml only", got)
	}
}

func kustomization(t *testing.T, spec map[string]any) json.RawMessage {
	t.Helper()
	raw, err := json.Marshal(map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
		"metadata": map[string]any{"name": "apps", "namespace": "flux-system"},
		"spec":     spec,
	})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// A folder without kustomization.yaml gets one generated from its manifests; targetNamespace
// applies; strict substitution names every variable without value or default, not only the
// first one.
func TestBuildGeneratesAndNamesEveryUndefinedVariable(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"apps/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: ${A}\n  b: ${B}\n  c: ${C:=default}\n  d: ${D}\n",
	})
	job := Job{ID: "apps", Strict: true, Object: kustomization(t, map[string]any{
		"path": "./apps", "prune": true, "interval": "1m", "sourceRef": map[string]any{"kind": "GitRepository", "name": "flux-system"},
		"targetNamespace": "team", "postBuild": map[string]any{"substitute": map[string]any{"A": "one"}},
	})}
	result := build(context.Background(), dir, job)
	if result.Stage != "substitute" || !result.Generated {
		t.Fatalf("stage %q generated %v, want substitute and generated: %+v", result.Stage, result.Generated, result)
	}
	if len(result.Undefined) != 1 || !slices.Equal(result.Undefined[0].Variables, []string{"B", "D"}) {
		t.Fatalf("undefined = %+v, want B and D of ConfigMap/team/settings", result.Undefined)
	}
	if result.Undefined[0].Object != "ConfigMap/team/settings" || result.Undefined[0].Origin != "apps/settings.yaml" {
		t.Fatalf("undefined names %+v", result.Undefined[0])
	}
}

func TestBuildSubstitutesFromASourceConfigMap(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"apps/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: team\ndata:\n  region: ${REGION}\n",
	})
	source, _ := json.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "cluster-vars", "namespace": "flux-system"},
		"data": map[string]any{"REGION": "us-east-1"},
	})
	job := Job{ID: "apps", Strict: true, Sources: []json.RawMessage{source}, Object: kustomization(t, map[string]any{
		"path": "./apps", "prune": true, "interval": "1m", "sourceRef": map[string]any{"kind": "GitRepository", "name": "flux-system"},
		"postBuild": map[string]any{"substituteFrom": []any{map[string]any{"kind": "ConfigMap", "name": "cluster-vars"}}},
	})}
	result := build(context.Background(), dir, job)
	if result.Stage != "ok" {
		t.Fatalf("stage %q: %s", result.Stage, result.Error)
	}
	data := result.Objects[0].Object["data"].(map[string]any)
	if data["region"] != "us-east-1" {
		t.Fatalf("region = %v, want us-east-1", data["region"])
	}
}

func TestBuildReportsAMissingPathAsFluxDoes(t *testing.T) {
	dir := t.TempDir()
	job := Job{ID: "apps", Object: kustomization(t, map[string]any{
		"path": "./nowhere", "prune": true, "interval": "1m", "sourceRef": map[string]any{"kind": "GitRepository", "name": "flux-system"},
	})}
	result := build(context.Background(), dir, job)
	if result.Stage != "path" || !strings.HasPrefix(result.Error, "kustomization path not found") {
		t.Fatalf("stage %q error %q", result.Stage, result.Error)
	}
}
