package provision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/jitaccess/jit/shared/local/template"
)

const defaultWaitTimeout = 2 * time.Minute

// Provisioner creates a template's resources in the emulator.
type Provisioner struct {
	// AWS must point at the emulator (BaseEndpoint set); see
	// EmulatorConfig.
	AWS aws.Config
	// Template is the parsed SAM template.
	Template *template.Template
	// Root is the repository root: DefinitionUri paths are relative to it.
	Root string
	// Resolver resolves intrinsic functions; its Physical names are the
	// names resources are created with, its AccountID must be the
	// emulator's.
	Resolver template.Resolver
	// Logger receives progress logs; default slog.Default().
	Logger *slog.Logger
	// WaitTimeout bounds each wait for a resource to become ready;
	// default 2 minutes.
	WaitTimeout time.Duration
}

// EmulatorConfig returns an aws.Config that sends every service's requests
// to the emulator at endpoint, signed with fixed test credentials. It reads
// no environment variables or shared config files, so it cannot reach real
// AWS by accident.
func EmulatorConfig(endpoint, region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

// Apply creates every table and state machine of the template that does
// not exist yet, and brings existing state machines up to date with their
// definition files. Tables come first; state machines only reference
// function ARNs, which the emulator does not check.
func (p *Provisioner) Apply(ctx context.Context) error {
	if err := p.check(); err != nil {
		return err
	}
	start := time.Now()
	for _, t := range p.Template.Tables {
		if err := p.ensureTable(ctx, t); err != nil {
			return fmt.Errorf("table %s: %w", t.LogicalID, err)
		}
	}
	for _, sm := range p.Template.StateMachines {
		if err := p.ensureStateMachine(ctx, sm); err != nil {
			return fmt.Errorf("state machine %s: %w", sm.LogicalID, err)
		}
	}
	p.logger().Info("provisioned local cloud",
		"tables", len(p.Template.Tables),
		"state_machines", len(p.Template.StateMachines),
		"took", time.Since(start).Round(time.Millisecond))
	return nil
}

// check refuses configurations that could touch real AWS or cannot work.
func (p *Provisioner) check() error {
	if p.Template == nil {
		return errors.New("provision: no template")
	}
	if err := checkEndpoint(p.AWS); err != nil {
		return err
	}
	if p.Resolver.Region == "" || p.Resolver.AccountID == "" {
		return errors.New("provision: resolver needs Region and AccountID")
	}
	return nil
}

func checkEndpoint(cfg aws.Config) error {
	if cfg.BaseEndpoint == nil || *cfg.BaseEndpoint == "" {
		return errors.New("provision: AWS config has no BaseEndpoint; refusing to provision anything but the local emulator")
	}
	u, err := url.Parse(*cfg.BaseEndpoint)
	if err != nil {
		return fmt.Errorf("provision: BaseEndpoint %q: %w", *cfg.BaseEndpoint, err)
	}
	if h := u.Hostname(); strings.HasSuffix(h, ".amazonaws.com") || strings.HasSuffix(h, ".amazonaws.com.cn") {
		return fmt.Errorf("provision: BaseEndpoint %s is real AWS; refusing", *cfg.BaseEndpoint)
	}
	return nil
}

func (p *Provisioner) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

func (p *Provisioner) waitTimeout() time.Duration {
	if p.WaitTimeout > 0 {
		return p.WaitTimeout
	}
	return defaultWaitTimeout
}

// physicalName is the name a resource is created with.
func (p *Provisioner) physicalName(logicalID string) string {
	if ph, ok := p.Resolver.Physical[logicalID]; ok && ph.Name != "" {
		return ph.Name
	}
	return logicalID
}

func (p *Provisioner) partition() string {
	if p.Resolver.Partition != "" {
		return p.Resolver.Partition
	}
	return "aws"
}
