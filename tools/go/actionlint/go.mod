// Pins actionlint for aiops-gitops (the GitHub Actions workflow linter). scripts/bootstrap.sh
// builds it into .venv/bin; go.sum holds the module checksums (verified against sum.golang.org
// when first fetched). v1.7.11 is the newest release that builds with Go 1.24 (README).
module aiops-gitops/tools/actionlint

go 1.24.0

require github.com/rhysd/actionlint v1.7.11

require (
	github.com/bmatcuk/doublestar/v4 v4.10.0 // indirect
	github.com/fatih/color v1.18.0 // indirect
	github.com/mattn/go-colorable v0.1.14 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	github.com/mattn/go-runewidth v0.0.17 // indirect
	github.com/mattn/go-shellwords v1.0.12 // indirect
	github.com/rivo/uniseg v0.4.7 // indirect
	github.com/robfig/cron/v3 v3.0.1 // indirect
	go.yaml.in/yaml/v4 v4.0.0-rc.3 // indirect
	golang.org/x/sync v0.19.0 // indirect
	golang.org/x/sys v0.40.0 // indirect
)
