package cloud

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/jitaccess/jit/shared/local/edge"
)

// enforceIAM puts the edge's IAM enforcement in front of next unless it is
// switched off: by Options.NoIAMEnforcement or JIT_LOCAL_IAM=off. The
// propagation delay is Options.IAMPropagation, else
// JIT_LOCAL_IAM_PROPAGATION (a Go duration such as 10s); it can also be
// changed while running (POST /_local/iam on the edge, or c.IAM).
func (c *Cloud) enforceIAM(next http.Handler, moto *url.URL, opts Options) (http.Handler, error) {
	switch v := os.Getenv("JIT_LOCAL_IAM"); v {
	case "", "on":
	case "off":
		opts.NoIAMEnforcement = true
	default:
		return nil, fmt.Errorf("JIT_LOCAL_IAM=%q: want on or off", v)
	}
	if opts.NoIAMEnforcement {
		c.log.Warn("IAM enforcement is off: AssumeRole and role sessions are not checked")
		return next, nil
	}
	prop := opts.IAMPropagation
	if v := os.Getenv("JIT_LOCAL_IAM_PROPAGATION"); v != "" && prop == 0 {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("JIT_LOCAL_IAM_PROPAGATION=%q: want a duration such as 10s", v)
		}
		prop = d
	}
	ids := map[string]string{}
	for _, id := range c.Identities {
		ids[id.AccessKeyID] = id.PrincipalARN
	}
	c.IAM = edge.NewIAM(next, edge.IAMOptions{
		Backend: moto, AccountID: AccountID, Identities: ids, Propagation: prop, Logger: c.log,
	})
	return c.IAM, nil
}
