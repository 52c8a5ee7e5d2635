// flux-apply applies objects to a cluster the way kustomize-controller applies a
// Kustomization's build, and waits for their health the way it does.
//
// It exists so that `aiops simulate` does not reimplement Flux's apply: the staged
// server-side apply (CRDs and Namespaces first, then cluster-scoped objects, then the rest),
// the drift detection, the apply options and the cleanup of other field managers come from
// github.com/fluxcd/pkg/ssa, and the health check from its kstatus poller with Flux's Job
// status reader, all at the versions kustomize-controller v1.9.4 (Flux v2.9.4) uses. The
// options are set as internal/controller/kustomization_controller.go sets them (apply and
// checkHealth), with its --concurrent-ssa default; only the poll intervals are shorter
// (serve.go) so that a simulation does not sleep, which changes when a wait returns, not
// what it decides.
//
// Three commands:
//
//	flux-apply apply < request.json > response.json
//	    apply a set of objects and optionally wait for them; see Request and Response.
//	flux-apply serve --kubeconfig FILE
//	    the same for a stream of requests, one JSON line each ({"id": N, ...Request}), each
//	    answered by one line ({"id": N, ...Response}) in turn, all on one client and REST
//	    mapper as a long-running kustomize-controller has; {"cancel": N} ends request N
//	    where it is. Ends when standard input does. See serve.go.
//	flux-apply certs [--san NAME]... [--ca-san NAME] DIR
//	    write the key material of a throwaway control plane (or of a webhook server beside
//	    it) into DIR: a CA (ca.crt, ca.key), a serving certificate for 127.0.0.1, localhost
//	    and each --san signed by it (tls.crt, tls.key), and a service-account signing key
//	    pair (sa.key, sa.pub). --ca-san puts a DNS name into the CA certificate, for
//	    programs that check their CA by name (Kueue's cert-controller checks "kueue-ca").
//	    Valid for two years: cert-controller replaces certificates that expire within 90 days.
//
// Exit status: 0 when the request was processed (apply or health failures are in the
// response), 2 for bad usage, an unreadable request or a cluster that cannot be reached.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"flag"

	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	"github.com/fluxcd/cli-utils/pkg/kstatus/polling/clusterreader"
	"github.com/fluxcd/cli-utils/pkg/kstatus/polling/engine"
	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/runtime/statusreaders"
	"github.com/fluxcd/pkg/ssa"
	"github.com/fluxcd/pkg/ssa/normalize"
	ssautil "github.com/fluxcd/pkg/ssa/utils"
	"github.com/go-logr/logr/funcr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// Request is what `flux-apply apply` reads from standard input.
type Request struct {
	Kubeconfig string `json:"kubeconfig"`
	// FieldManager is the manager the objects are applied as: kustomize-controller for a
	// Kustomization, helm-controller for what a HelmRelease installs.
	FieldManager string `json:"fieldManager"`
	// OwnerGroup, OwnerName and OwnerNamespace label every object as its owner labels it
	// (<group>/name, <group>/namespace), as SetOwnerLabels does. Empty: no labels.
	OwnerGroup     string `json:"ownerGroup"`
	OwnerName      string `json:"ownerName"`
	OwnerNamespace string `json:"ownerNamespace"`
	// Objects is the multi-document YAML to apply (the Kustomization's build).
	Objects string `json:"objects"`
	// Engine is whose apply this is: "" for kustomize-controller's (fluxcd/pkg/ssa's staged
	// apply with its dry run and drift detection), "helm" for helm-controller's install of a
	// rendered chart (helm.go).
	Engine string `json:"engine"`
	Force  bool   `json:"force"`
	// Wait runs the health check on what was applied, for at most Timeout (a Go duration).
	Wait    bool   `json:"wait"`
	Timeout string `json:"timeout"`
}

// Change is one entry of the change set: an object and what the apply did to it.
type Change struct {
	Subject string `json:"subject"` // Kind/namespace/name, as ssa prints it
	Action  string `json:"action"`  // created, configured, unchanged, skipped
}

// Response is what `flux-apply apply` writes to standard output.
type Response struct {
	Changes []Change `json:"changes"`
	// ApplyError is the apply's error (the dry run or the apply of an object failed);
	// objects applied before it are in Changes.
	ApplyError string `json:"applyError,omitempty"`
	// HealthError is the health check's error, as kustomize-controller puts it in the
	// Kustomization's Healthy condition; empty when healthy or not checked.
	HealthError string  `json:"healthError,omitempty"`
	Healthy     bool    `json:"healthy"`
	Seconds     float64 `json:"seconds"`
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	// What client-go and controller-runtime log (the API server's warnings, say) goes to
	// standard error, which `aiops simulate` keeps as flux-apply.log.
	ctrllog.SetLogger(funcr.New(func(prefix, args string) { fmt.Fprintln(os.Stderr, prefix, args) }, funcr.Options{}))
	var err error
	switch os.Args[1] {
	case "apply":
		err = applyCommand(os.Stdin, os.Stdout)
	case "serve":
		flags := flag.NewFlagSet("serve", flag.ExitOnError)
		kubeconfig := flags.String("kubeconfig", "", "the kubeconfig of the cluster")
		_ = flags.Parse(os.Args[2:])
		if *kubeconfig == "" || flags.NArg() != 0 {
			usage()
		}
		err = serveCommand(*kubeconfig, os.Stdin, os.Stdout)
	case "certs":
		flags := flag.NewFlagSet("certs", flag.ExitOnError)
		var sans multiFlag
		flags.Var(&sans, "san", "a DNS name of the serving certificate (repeatable)")
		caSAN := flags.String("ca-san", "", "a DNS name of the CA certificate")
		_ = flags.Parse(os.Args[2:])
		if flags.NArg() != 1 {
			usage()
		}
		err = certsCommand(flags.Arg(0), sans, *caSAN)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "flux-apply:", err)
		os.Exit(2)
	}
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func usage() {
	fmt.Fprintln(os.Stderr, "usage: flux-apply apply < request.json | flux-apply serve --kubeconfig FILE | flux-apply certs [--san NAME]... [--ca-san NAME] DIR")
	os.Exit(2)
}

func applyCommand(in io.Reader, out io.Writer) error {
	var req Request
	if err := json.NewDecoder(in).Decode(&req); err != nil {
		return fmt.Errorf("reading the request: %w", err)
	}
	s, err := newSession(req.Kubeconfig)
	if err != nil {
		return err
	}
	resp, err := s.handle(context.Background(), req)
	if err != nil {
		return err
	}
	return json.NewEncoder(out).Encode(resp)
}

// session is what every request to one cluster shares, as in a long-running
// kustomize-controller: one client, one dynamic REST mapper (it learns the kinds a CRD
// adds when an object of that kind first comes), one kstatus poller.
type session struct {
	kubeconfig string
	kubeClient client.Client
	poller     *polling.StatusPoller
}

// newSession connects to the cluster of a kubeconfig as kustomize-controller connects to
// its own: a client with a dynamic REST mapper and a kstatus poller with Flux's Job status
// reader, reading objects directly.
func newSession(kubeconfig string) (*session, error) {
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	config.QPS, config.Burst = 100, 200
	httpClient, err := rest.HTTPClientFor(config)
	if err != nil {
		return nil, err
	}
	mapper, err := apiutil.NewDynamicRESTMapper(config, httpClient)
	if err != nil {
		return nil, fmt.Errorf("the API server cannot be reached: %w", err)
	}
	kubeClient, err := client.New(config, client.Options{Scheme: runtime.NewScheme(), Mapper: mapper, HTTPClient: httpClient})
	if err != nil {
		return nil, err
	}
	// kustomize-controller's DisableStatusPollerCache feature gate is on by default (since
	// v1.2, internal/features): its poller reads each object it checks (the direct cluster
	// reader) instead of listing every kind of the set at each poll.
	poller := polling.NewStatusPoller(kubeClient, mapper, polling.Options{
		CustomStatusReaders:  []engine.StatusReader{statusreaders.NewCustomJobStatusReader(mapper)},
		ClusterReaderFactory: engine.ClusterReaderFactoryFunc(clusterreader.NewDirectClusterReader),
	})
	return &session{kubeconfig: kubeconfig, kubeClient: kubeClient, poller: poller}, nil
}

// handle applies one request's objects and, when asked, waits for their health. An error
// is a request that could not be processed (its objects do not parse); what the cluster
// refused is in the response. Cancelling ctx ends the apply or the wait where it is.
func (s *session) handle(ctx context.Context, req Request) (Response, error) {
	resp := Response{Changes: []Change{}}
	timeout := 5 * time.Minute
	if req.Timeout != "" {
		parsed, err := time.ParseDuration(req.Timeout)
		if err != nil {
			return resp, fmt.Errorf("timeout %q: %w", req.Timeout, err)
		}
		timeout = parsed
	}
	if req.Kubeconfig != "" && req.Kubeconfig != s.kubeconfig {
		return resp, fmt.Errorf("this flux-apply serves %s, not %s", s.kubeconfig, req.Kubeconfig)
	}
	manager := ssa.NewResourceManager(s.kubeClient, s.poller, ssa.Owner{Field: req.FieldManager, Group: req.OwnerGroup})
	// kustomize-controller's --concurrent-ssa default (main.go): the dry runs that detect
	// drift run four at a time; the applies themselves stay one after another, in order.
	manager.SetConcurrency(concurrentSSA)
	objects, err := ssautil.ReadObjects(bytes.NewReader([]byte(req.Objects)))
	if err != nil {
		return resp, fmt.Errorf("reading the objects: %w", err)
	}
	if err := normalize.UnstructuredList(objects); err != nil {
		return resp, fmt.Errorf("normalizing the objects: %w", err)
	}
	if req.OwnerName != "" {
		manager.SetOwnerLabels(objects, req.OwnerName, req.OwnerNamespace)
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout+time.Minute)
	defer cancel()
	var toCheck object.ObjMetadataSet
	var applyErr error
	switch req.Engine {
	case "":
		var changeSet *ssa.ChangeSet
		changeSet, applyErr = manager.ApplyAllStaged(ctx, objects, applyOptions(req.Force, req.FieldManager))
		if changeSet != nil {
			for _, entry := range changeSet.Entries {
				resp.Changes = append(resp.Changes, Change{Subject: entry.Subject, Action: entry.Action.String()})
				toCheck = append(toCheck, entry.ObjMetadata)
			}
		}
	case "helm":
		resp.Changes, applyErr = s.helmCreate(ctx, objects, req.FieldManager)
		toCheck = object.UnstructuredSetToObjMetadataSet(objects)
	default:
		return resp, fmt.Errorf("engine %q: it is \"\" (kustomize-controller) or \"helm\" (helm-controller)", req.Engine)
	}
	applied := time.Now()
	if applyErr != nil {
		resp.ApplyError = applyErr.Error()
	} else if req.Wait && len(toCheck) > 0 {
		err := manager.WaitForSetWithContext(ctx, toCheck, ssa.WaitOptions{Interval: healthInterval, Timeout: timeout})
		if err != nil {
			resp.HealthError = err.Error()
		} else {
			resp.Healthy = true
		}
	} else {
		resp.Healthy = true
	}
	resp.Seconds = time.Since(start).Seconds()
	fmt.Fprintf(os.Stderr, "%s %s: %d object(s) applied in %.1f s, %d checked, %.1f s in all; apply error %q, health error %q\n",
		time.Now().Format(time.StampMilli), req.FieldManager, len(objects), applied.Sub(start).Seconds(), len(toCheck), resp.Seconds, resp.ApplyError, resp.HealthError)
	return resp, nil
}

// applyOptions are kustomize-controller's (apply in kustomization_controller.go).
func applyOptions(force bool, controller string) ssa.ApplyOptions {
	const group = "kustomize.toolkit.fluxcd.io"
	opts := ssa.DefaultApplyOptions()
	opts.WaitInterval = stageInterval
	opts.Force = force
	opts.ExclusionSelector = map[string]string{group + "/reconcile": "disabled", group + "/ssa": "Ignore"}
	opts.IfNotPresentSelector = map[string]string{group + "/ssa": "IfNotPresent"}
	opts.ForceSelector = map[string]string{group + "/force": "Enabled"}
	opts.Cleanup = ssa.ApplyCleanupOptions{
		Annotations: []string{"kubectl.kubernetes.io/last-applied-configuration", group + "/checksum", "fluxcd.io/sync-checksum"},
		Labels:      []string{"fluxcd.io/sync-gc-mark"},
		FieldManagers: []ssa.FieldManager{
			{Name: "kubectl", OperationType: metav1.ManagedFieldsOperationApply},
			{Name: "kubectl", OperationType: metav1.ManagedFieldsOperationUpdate},
			{Name: "before-first-apply", OperationType: metav1.ManagedFieldsOperationUpdate},
			{Name: controller, OperationType: metav1.ManagedFieldsOperationUpdate},
		},
		Exclusions: map[string]string{group + "/ssa": "Merge"},
	}
	return opts
}

// certsCommand writes a CA, a serving certificate for the loopback addresses and a
// service-account key pair: everything a throwaway API server and the webhooks it calls
// need, made fresh for each control plane and never reused.
func certsCommand(dir string, sans []string, caSAN string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	caKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	now := time.Now()
	caTemplate := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "aiops-simulate-ca"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(2 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	if caSAN != "" {
		caTemplate.DNSNames = []string{caSAN}
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	serverKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	serverTemplate := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(2 * 365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: append([]string{"localhost"}, sans...),
	}
	serverDER, err := x509.CreateCertificate(rand.Reader, serverTemplate, caCert, &serverKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	saPub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return err
	}
	files := map[string]*pem.Block{
		"ca.crt":  {Type: "CERTIFICATE", Bytes: caDER},
		"ca.key":  {Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(caKey)},
		"tls.crt": {Type: "CERTIFICATE", Bytes: serverDER},
		"tls.key": {Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(serverKey)},
		"sa.key":  {Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(saKey)},
		"sa.pub":  {Type: "PUBLIC KEY", Bytes: saPub},
	}
	for name, block := range files {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600); err != nil {
			return err
		}
	}
	return nil
}
