// Command localcloud runs the whole system on this machine, in the
// foreground, without Docker or an AWS account: moto as the AWS emulator,
// the project's Lambda functions as local processes, the HTTP API with
// SigV4 against local identities, and an inbox of sent messages. Ctrl-C
// stops everything it started.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"

	"github.com/jitaccess/jit/shared/local/cloud"
)

func main() {
	var opts cloud.Options
	flag.StringVar(&opts.Root, "root", ".", "repository root (holds template.yaml)")
	flag.IntVar(&opts.EdgePort, "edge-port", 4566, "port of the AWS endpoint (Lambda + proxied moto)")
	flag.IntVar(&opts.APIPort, "api-port", 3000, "port of the HTTP API and the inbox")
	flag.StringVar(&opts.Policy, "policy", "", "policy file applied at start (default infra/local/policies.yaml)")
	quiet := flag.Bool("quiet", false, "do not print function and emulator output")
	flag.BoolVar(&opts.LaxDynamoDB, "lax-dynamodb", false, "pass DynamoDB requests to moto unchecked (by default the edge refuses what DynamoDB refuses)")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	opts.Logger = log
	if !*quiet {
		opts.Output = os.Stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	c, err := cloud.Start(ctx, opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "localcloud: %v\n", err)
		os.Exit(1)
	}
	printReady(c)
	select {
	case <-ctx.Done():
		fmt.Fprintln(os.Stderr, "\nstopping...")
	case <-c.Moto.Done():
		fmt.Fprintf(os.Stderr, "localcloud: the AWS emulator (moto) exited unexpectedly; last output:\n%s\n", c.Moto.Output())
		c.Close()
		os.Exit(1)
	}
	if err := c.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "localcloud: stop: %v\n", err)
		os.Exit(1)
	}
}

func printReady(c *cloud.Cloud) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "\nlocal cloud ready\n")
	fmt.Fprintf(w, "  HTTP API\t%s\t(SigV4: service execute-api, region %s)\n", c.APIURL, cloud.Region)
	fmt.Fprintf(w, "  inbox\t%s/_local/inbox\n", c.APIURL)
	fmt.Fprintf(w, "  auditor page\t%s/_local/signin\t(sign in as a local auditor or admin)\n", c.APIURL)
	fmt.Fprintf(w, "  AWS endpoint\t%s\t(aws --endpoint-url %s ...)\n", c.EdgeURL, c.EdgeURL)
	fmt.Fprintf(w, "  table\t%s\n", c.Table)
	fmt.Fprintf(w, "  state machine\t%s\n", c.StateMachineArn)
	fmt.Fprintf(w, "\n  identity\tkind\taccess key id\tsecret access key\n")
	for _, id := range c.Identities {
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", id.Name, id.Kind, id.AccessKeyID, id.SecretAccessKey)
	}
	fmt.Fprintln(w, "\nPress Ctrl-C to stop.")
	w.Flush()
}
