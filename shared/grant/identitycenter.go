package grant

// IdentityCenter (provider identity_center) grants by creating an IAM
// Identity Center account assignment: the requester's Identity Center
// user gets a permission set in an account, and loses it when the grant
// ends.
//
// The requester is found from the session name of their principal ARN
// (an SSO session's name is the user's user name, usually their email):
// identitystore GetUserId by userName, then by emails.value, in the
// identity store of the target's instance. Nobody found is a clear,
// non-retryable error naming the session name.
//
// One assignment (user, permission set, account) can serve several
// requests at once, so it is reference-counted in the table
// (store.Assignments): Apply holds it for the request and Remove releases
// it; only releasing the last hold deletes it, and an assignment that
// existed before any request held it (a standing assignment made outside
// this service) is never deleted.
//
// Serialization. Creating and deleting an assignment are asynchronous in
// AWS (a request id, then DescribeAccountAssignment*Status until
// SUCCEEDED or FAILED), and a delete that lands after a create for a new
// holder would take that holder's access away. So the AWS object of one
// assignment is changed only by the caller holding the assignment item's
// lease (lease_owner, lease_until on the same item as the holders). The
// lease lives on that item, not on a separate lock item, so that one
// conditional write can check the lease and the holder set together:
// the step that takes access away (present -> deleting) is written only
// if the caller still owns the lease AND nobody holds the assignment, and
// a Hold is a single atomic ADD to the set. Hence:
//   - a request that finds the assignment present (or external) after its
//     Hold is done at once: it cannot be deleted while the request holds it;
//   - otherwise it takes the lease and drives the assignment to match the
//     holders (create, wait), re-reading the holders after every write;
//   - a release that leaves no holders takes the lease and deletes, unless
//     a new holder arrived first, in which case that holder (waiting for
//     the lease or retrying) does the creating.
//
// Every state (creating/deleting with or without a known AWS request id)
// can be resumed by the next lease holder, so a caller that runs out of
// time returns a TransientError and the workflow's retry picks up where
// it stopped. The lease outlives any one caller (LeaseTTL, default 2
// minutes, must exceed the functions' timeout), and a caller stops
// working a few seconds before its lease or its context ends.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/document"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/smithy-go"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/store"

	"github.com/jitaccess/jit/shared/target"
)

// SSOAdmin is the part of the IAM Identity Center admin API the provider
// uses.
type SSOAdmin interface {
	ListInstances(context.Context, *ssoadmin.ListInstancesInput, ...func(*ssoadmin.Options)) (*ssoadmin.ListInstancesOutput, error)
	ListAccountAssignments(context.Context, *ssoadmin.ListAccountAssignmentsInput, ...func(*ssoadmin.Options)) (*ssoadmin.ListAccountAssignmentsOutput, error)
	CreateAccountAssignment(context.Context, *ssoadmin.CreateAccountAssignmentInput, ...func(*ssoadmin.Options)) (*ssoadmin.CreateAccountAssignmentOutput, error)
	DeleteAccountAssignment(context.Context, *ssoadmin.DeleteAccountAssignmentInput, ...func(*ssoadmin.Options)) (*ssoadmin.DeleteAccountAssignmentOutput, error)
	DescribeAccountAssignmentCreationStatus(context.Context, *ssoadmin.DescribeAccountAssignmentCreationStatusInput, ...func(*ssoadmin.Options)) (*ssoadmin.DescribeAccountAssignmentCreationStatusOutput, error)
	DescribeAccountAssignmentDeletionStatus(context.Context, *ssoadmin.DescribeAccountAssignmentDeletionStatusInput, ...func(*ssoadmin.Options)) (*ssoadmin.DescribeAccountAssignmentDeletionStatusOutput, error)
}

// IdentityStore is the part of the identity store API the provider uses.
type IdentityStore interface {
	GetUserId(context.Context, *identitystore.GetUserIdInput, ...func(*identitystore.Options)) (*identitystore.GetUserIdOutput, error)
}

// ErrUnknownUser is returned when the requester has no Identity Center
// user. Not worth retrying.
var ErrUnknownUser = errors.New("no IAM Identity Center user")

// IdentityCenter grants by creating Identity Center account assignments.
// Use it by pointer; it caches each instance's identity store id.
type IdentityCenter struct {
	SSOAdmin      SSOAdmin
	IdentityStore IdentityStore
	Assignments   *store.Assignments
	// LeaseTTL is how long one caller may change an assignment before
	// another may take over; it must exceed the functions' timeout.
	// Default 2 minutes.
	LeaseTTL time.Duration
	// Now defaults to time.Now.
	Now func() time.Time

	mu     sync.Mutex
	stores map[string]string // instance ARN -> identity store id
}

const (
	defaultLeaseTTL = 2 * time.Minute
	// stopMargin is how long before its context's (or lease's) end a
	// caller stops waiting, to report back in time.
	stopMargin = 2 * time.Second
	// leaseMargin is how long before its lease ends a caller stops
	// changing the assignment.
	leaseMargin = 10 * time.Second
	// defaultBound bounds a call whose context has no deadline.
	defaultBound = time.Minute
)

// Apply gives the requester's user the target's permission set in the
// target's account, holding the assignment for the request, and returns
// once the assignment exists. Applying again holds once.
func (p *IdentityCenter) Apply(ctx context.Context, g Grant) error {
	if err := p.apply(ctx, g); err != nil {
		return surface(fmt.Errorf("identity center: %w", err))
	}
	return nil
}

// Describe is what the granted event records beside the target's
// parameters (which the handler records for every provider): the user
// the assignment is held for.
func (p *IdentityCenter) Describe(g Grant) map[string]string {
	return map[string]string{"user": access.RoleSessionName(g.Principal)}
}

// Remove releases the request's hold and deletes the assignment if no
// other request holds it. Removing a request that holds nothing succeeds.
func (p *IdentityCenter) Remove(ctx context.Context, g Grant) error {
	if err := p.remove(ctx, g); err != nil {
		return surface(fmt.Errorf("identity center: %w", err))
	}
	return nil
}

func (p *IdentityCenter) apply(ctx context.Context, g Grant) error {
	if err := checkPrincipal(g.Principal); err != nil {
		return fmt.Errorf("request %s: %w", g.RequestID, err)
	}
	instance, permSet, account := g.Target.Param(target.InstanceARN), g.Target.Param(target.PermissionSetARN), g.Target.Param(target.AccountID)
	if instance == "" || permSet == "" || account == "" {
		return fmt.Errorf("request %s: target needs instance_arn, permission_set_arn and account_id", g.RequestID)
	}
	user, err := p.resolveUser(ctx, instance, g.Principal)
	if err != nil {
		return err
	}
	k := store.AssignmentKey{InstanceARN: instance, AccountID: account, PermissionSetARN: permSet, UserID: user}
	_, a, err := p.Assignments.Hold(ctx, k, g.RequestID, p.now())
	if err != nil {
		return classifyIC(err)
	}
	if a.State == store.AssignmentPresent || a.State == store.AssignmentExternal {
		// Held and present: it stays while we hold it. Check that nobody
		// removed it behind our back; if so, make it again.
		ok, err := p.exists(ctx, k)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		return p.settle(ctx, k, g.RequestID, true, true)
	}
	return p.settle(ctx, k, g.RequestID, true, false)
}

func (p *IdentityCenter) remove(ctx context.Context, g Grant) error {
	_, a, err := p.Assignments.Release(ctx, g.RequestID, p.now())
	if err != nil {
		return classifyIC(err)
	}
	if a == nil || a.Held() {
		// Held nothing, or others still hold it.
		return nil
	}
	if a.State == store.AssignmentAbsent {
		// Nothing of ours exists, and a lease holder creates only after a
		// write that saw a holder, which is after our release.
		return nil
	}
	return p.settle(ctx, a.Key, g.RequestID, false, false)
}

// settle takes the assignment's lease and drives the AWS assignment
// towards its holders: created while held, deleted when not. held says
// what the caller wants (after its own hold or release); once the
// holders say otherwise, whoever changed them finishes the job. repair
// means the caller found a present assignment missing in AWS.
func (p *IdentityCenter) settle(ctx context.Context, k store.AssignmentKey, requestID string, held, repair bool) error {
	owner, err := leaseOwner()
	if err != nil {
		return err
	}
	base := ctx
	ctx, cancel := bounded(ctx, p.now())
	defer cancel()

	a, err := p.lease(ctx, k, owner, held, repair)
	if err != nil || a == nil {
		return err
	}
	defer func() {
		// Give the lease up even if the caller's context ended.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(base), 5*time.Second)
		defer cancel()
		_ = p.Assignments.Unlease(uctx, k, owner)
	}()
	// Stop changing the assignment well before the lease runs out.
	ctx, cancelLease := context.WithDeadline(ctx, a.LeaseUntil.Add(-leaseMargin))
	defer cancelLease()

	w := &worker{p: p, k: k, owner: owner}
	for {
		if err := ctx.Err(); err != nil {
			return &TransientError{Err: fmt.Errorf("assignment %s still %s: %w", k, stateName(a.State), err)}
		}
		if a.Held() != held {
			// The holders changed the other way since; whoever changed
			// them settles it (they wait for this lease).
			return nil
		}
		var done bool
		if a.Held() {
			a, done, err = w.towardsPresent(ctx, a, &repair)
		} else {
			a, done, err = w.towardsAbsent(ctx, a)
		}
		if err != nil || done {
			return err
		}
	}
}

// lease takes the assignment's lease, waiting (bounded by ctx) while
// another caller has it. It returns nil without error if, meanwhile, the
// assignment became what the caller wants.
func (p *IdentityCenter) lease(ctx context.Context, k store.AssignmentKey, owner string, held, repair bool) (*store.Assignment, error) {
	ttl := p.LeaseTTL
	if ttl <= 0 {
		ttl = defaultLeaseTTL
	}
	wait := 25 * time.Millisecond
	for {
		a, err := p.Assignments.Lease(ctx, k, owner, p.now(), ttl)
		if err == nil {
			return a, nil
		}
		if !errors.Is(err, store.ErrAssignmentLeased) {
			return nil, classifyIC(err)
		}
		if !repair && a.Held() == held && satisfied(a) {
			return nil, nil
		}
		if err := sleep(ctx, jitter(wait)); err != nil {
			return nil, &TransientError{Err: fmt.Errorf("assignment %s is being changed by another caller (lease until %s): %w",
				k, a.LeaseUntil.Format(time.RFC3339), err)}
		}
		wait = min(2*wait, time.Second)
	}
}

// satisfied reports whether an assignment is settled: present while held,
// absent while not.
func satisfied(a *store.Assignment) bool {
	if a.Held() {
		return a.State == store.AssignmentPresent || a.State == store.AssignmentExternal
	}
	return a.State == store.AssignmentAbsent
}

// worker makes one step at a time under the lease. Each step either
// finishes (done) or returns the assignment as written, with its holders
// re-read, for the next step.
type worker struct {
	p     *IdentityCenter
	k     store.AssignmentKey
	owner string
	delay time.Duration // next pause between status polls
}

func (w *worker) set(ctx context.Context, to store.AssignmentState, op string, unheld bool) (*store.Assignment, error) {
	a, err := w.p.Assignments.SetState(ctx, w.k, w.owner, to, op, unheld, w.p.now())
	if errors.Is(err, store.ErrNotLeaseOwner) {
		cur, gerr := w.p.Assignments.Get(ctx, w.k)
		if gerr != nil {
			return nil, classifyIC(gerr)
		}
		if cur.LeaseOwner != w.owner {
			return nil, &TransientError{Err: fmt.Errorf("assignment %s: lease lost: %w", w.k, err)}
		}
		// A holder arrived before an unheld-only write: go on with it.
		return cur, nil
	}
	if err != nil {
		return nil, classifyIC(err)
	}
	return a, nil
}

func (w *worker) towardsPresent(ctx context.Context, a *store.Assignment, repair *bool) (*store.Assignment, bool, error) {
	switch a.State {
	case store.AssignmentPresent, store.AssignmentExternal:
		if !*repair {
			return a, true, nil
		}
		*repair = false
		ok, err := w.p.exists(ctx, w.k)
		if err != nil || ok {
			return a, ok, err
		}
		// Gone although we hold it: make it again, as ours.
		a, err = w.set(ctx, store.AssignmentCreating, "", false)
		return a, false, err
	case store.AssignmentAbsent:
		ok, err := w.p.exists(ctx, w.k)
		if err != nil {
			return nil, false, err
		}
		if ok {
			// Assigned outside this service: use it, never delete it.
			a, err = w.set(ctx, store.AssignmentExternal, "", false)
			return a, false, err
		}
		// Recorded before the call, so that whoever comes next knows a
		// creation may be under way.
		a, err = w.set(ctx, store.AssignmentCreating, "", false)
		return a, false, err
	case store.AssignmentCreating:
		if a.OperationID == "" {
			ok, err := w.p.exists(ctx, w.k)
			if err != nil {
				return nil, false, err
			}
			if ok {
				a, err = w.set(ctx, store.AssignmentPresent, "", false)
				return a, false, err
			}
			st, err := w.p.create(ctx, w.k)
			if err != nil {
				return nil, false, err
			}
			return w.afterCreation(ctx, st)
		}
		return w.resumeCreation(ctx, a)
	case store.AssignmentDeleting:
		// A deletion must finish before the assignment is made again.
		return w.deleting(ctx, a)
	}
	return nil, false, fmt.Errorf("assignment %s: unknown state %q", w.k, a.State)
}

func (w *worker) towardsAbsent(ctx context.Context, a *store.Assignment) (*store.Assignment, bool, error) {
	var err error
	switch a.State {
	case store.AssignmentAbsent:
		return a, true, nil
	case store.AssignmentExternal:
		// Not ours: forget it without deleting it.
		a, err = w.set(ctx, store.AssignmentAbsent, "", true)
		return a, false, err
	case store.AssignmentPresent:
		// Only while nobody holds it (checked in the same write).
		a, err = w.set(ctx, store.AssignmentDeleting, "", true)
		return a, false, err
	case store.AssignmentCreating:
		// Let a creation under way finish, then delete what it made.
		if a.OperationID == "" {
			ok, err := w.p.exists(ctx, w.k)
			if err != nil {
				return nil, false, err
			}
			to := store.AssignmentAbsent
			if ok {
				to = store.AssignmentPresent
			}
			a, err = w.set(ctx, to, "", false)
			return a, false, err
		}
		return w.resumeCreation(ctx, a)
	case store.AssignmentDeleting:
		return w.deleting(ctx, a)
	}
	return nil, false, fmt.Errorf("assignment %s: unknown state %q", w.k, a.State)
}

// resumeCreation follows a creation this or an earlier holder asked for
// (a.OperationID): its status decides, and one the service no longer
// knows starts the creation over.
func (w *worker) resumeCreation(ctx context.Context, a *store.Assignment) (*store.Assignment, bool, error) {
	st, err := w.p.creationStatus(ctx, w.k, a.OperationID)
	if err != nil {
		return nil, false, err
	}
	if st == nil {
		a, err = w.set(ctx, store.AssignmentCreating, "", false)
		return a, false, err
	}
	return w.afterCreation(ctx, st)
}

// afterCreation records a creation request's status, waiting a little
// while it is in progress.
func (w *worker) afterCreation(ctx context.Context, st *ssotypes.AccountAssignmentOperationStatus) (*store.Assignment, bool, error) {
	id := aws.ToString(st.RequestId)
	switch st.Status {
	case ssotypes.StatusValuesSucceeded:
		a, err := w.set(ctx, store.AssignmentPresent, "", false)
		return a, false, err
	case ssotypes.StatusValuesFailed:
		if _, err := w.set(ctx, store.AssignmentAbsent, "", false); err != nil {
			return nil, false, err
		}
		return nil, false, fmt.Errorf("create assignment %s failed: %s", w.k, aws.ToString(st.FailureReason))
	default:
		a, err := w.set(ctx, store.AssignmentCreating, id, false)
		if err != nil {
			return nil, false, err
		}
		if err := w.wait(ctx, "creation", id); err != nil {
			return nil, false, err
		}
		return a, false, nil
	}
}

// deleting moves a deletion on: sends it if it was not (known to be)
// sent, else polls it.
func (w *worker) deleting(ctx context.Context, a *store.Assignment) (*store.Assignment, bool, error) {
	var (
		st  *ssotypes.AccountAssignmentOperationStatus
		err error
	)
	if a.OperationID != "" {
		st, err = w.p.deletionStatus(ctx, w.k, a.OperationID)
		if err != nil {
			return nil, false, err
		}
	}
	if st == nil {
		// Not sent, or sent and forgotten by the service: (re)send it. A
		// missing assignment is a finished deletion.
		st, err = w.p.delete(ctx, w.k)
		if err != nil {
			return nil, false, err
		}
		if st == nil {
			a, err = w.set(ctx, store.AssignmentAbsent, "", false)
			return a, false, err
		}
	}
	id := aws.ToString(st.RequestId)
	switch st.Status {
	case ssotypes.StatusValuesSucceeded:
		a, err = w.set(ctx, store.AssignmentAbsent, "", false)
		return a, false, err
	case ssotypes.StatusValuesFailed:
		// Still there: record it so, and let the workflow retry; access
		// must not outlive the request.
		if _, err := w.set(ctx, store.AssignmentPresent, "", false); err != nil {
			return nil, false, err
		}
		return nil, false, &TransientError{Err: fmt.Errorf("delete assignment %s failed: %s", w.k, aws.ToString(st.FailureReason))}
	default:
		a, err = w.set(ctx, store.AssignmentDeleting, id, false)
		if err != nil {
			return nil, false, err
		}
		if err := w.wait(ctx, "deletion", id); err != nil {
			return nil, false, err
		}
		return a, false, nil
	}
}

// wait pauses between status polls, longer each time (200ms doubling to
// 3s); past the caller's bound the operation is still in progress, and
// the caller should retry later.
func (w *worker) wait(ctx context.Context, what, id string) error {
	if w.delay == 0 {
		w.delay = 200 * time.Millisecond
	}
	if err := sleep(ctx, jitter(w.delay)); err != nil {
		return &TransientError{Err: fmt.Errorf("assignment %s: %s %s still in progress: %w", w.k, what, id, err)}
	}
	w.delay = min(2*w.delay, 3*time.Second)
	return nil
}

// ---- AWS calls ----

func (p *IdentityCenter) create(ctx context.Context, k store.AssignmentKey) (*ssotypes.AccountAssignmentOperationStatus, error) {
	out, err := p.SSOAdmin.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{
		InstanceArn: &k.InstanceARN, PermissionSetArn: &k.PermissionSetARN,
		TargetId: &k.AccountID, TargetType: ssotypes.TargetTypeAwsAccount,
		PrincipalId: &k.UserID, PrincipalType: ssotypes.PrincipalTypeUser,
	})
	if err != nil {
		return nil, classifyIC(fmt.Errorf("create assignment %s: %w", k, err))
	}
	if out.AccountAssignmentCreationStatus == nil {
		return nil, fmt.Errorf("create assignment %s: no status in the answer", k)
	}
	return out.AccountAssignmentCreationStatus, nil
}

// delete sends a deletion; nil status means there was nothing to delete.
func (p *IdentityCenter) delete(ctx context.Context, k store.AssignmentKey) (*ssotypes.AccountAssignmentOperationStatus, error) {
	out, err := p.SSOAdmin.DeleteAccountAssignment(ctx, &ssoadmin.DeleteAccountAssignmentInput{
		InstanceArn: &k.InstanceARN, PermissionSetArn: &k.PermissionSetARN,
		TargetId: &k.AccountID, TargetType: ssotypes.TargetTypeAwsAccount,
		PrincipalId: &k.UserID, PrincipalType: ssotypes.PrincipalTypeUser,
	})
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, classifyIC(fmt.Errorf("delete assignment %s: %w", k, err))
	}
	if out.AccountAssignmentDeletionStatus == nil {
		return nil, fmt.Errorf("delete assignment %s: no status in the answer", k)
	}
	return out.AccountAssignmentDeletionStatus, nil
}

// creationStatus returns nil when the service does not know the request.
func (p *IdentityCenter) creationStatus(ctx context.Context, k store.AssignmentKey, id string) (*ssotypes.AccountAssignmentOperationStatus, error) {
	out, err := p.SSOAdmin.DescribeAccountAssignmentCreationStatus(ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{
		InstanceArn: &k.InstanceARN, AccountAssignmentCreationRequestId: &id,
	})
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, classifyIC(fmt.Errorf("assignment %s creation status: %w", k, err))
	}
	return out.AccountAssignmentCreationStatus, nil
}

// deletionStatus returns nil when the service does not know the request.
func (p *IdentityCenter) deletionStatus(ctx context.Context, k store.AssignmentKey, id string) (*ssotypes.AccountAssignmentOperationStatus, error) {
	out, err := p.SSOAdmin.DescribeAccountAssignmentDeletionStatus(ctx, &ssoadmin.DescribeAccountAssignmentDeletionStatusInput{
		InstanceArn: &k.InstanceARN, AccountAssignmentDeletionRequestId: &id,
	})
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, classifyIC(fmt.Errorf("assignment %s deletion status: %w", k, err))
	}
	return out.AccountAssignmentDeletionStatus, nil
}

// exists reports whether the user has the permission set in the account.
func (p *IdentityCenter) exists(ctx context.Context, k store.AssignmentKey) (bool, error) {
	pages := ssoadmin.NewListAccountAssignmentsPaginator(p.SSOAdmin, &ssoadmin.ListAccountAssignmentsInput{
		InstanceArn: &k.InstanceARN, AccountId: &k.AccountID, PermissionSetArn: &k.PermissionSetARN,
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return false, classifyIC(fmt.Errorf("list assignments of %s in %s: %w", k.PermissionSetARN, k.AccountID, err))
		}
		for _, as := range page.AccountAssignments {
			if as.PrincipalType == ssotypes.PrincipalTypeUser && aws.ToString(as.PrincipalId) == k.UserID {
				return true, nil
			}
		}
	}
	return false, nil
}

// resolveUser finds the Identity Center user of principal: by the session
// name as user name, then as email.
func (p *IdentityCenter) resolveUser(ctx context.Context, instanceARN, principal string) (string, error) {
	name := principal[strings.LastIndex(principal, "/")+1:]
	if name == "" {
		return "", fmt.Errorf("%w: principal %q has no session name", ErrUnknownUser, principal)
	}
	storeID, err := p.identityStore(ctx, instanceARN)
	if err != nil {
		return "", err
	}
	for _, path := range []string{"userName", "emails.value"} {
		out, err := p.IdentityStore.GetUserId(ctx, &identitystore.GetUserIdInput{
			IdentityStoreId: &storeID,
			AlternateIdentifier: &istypes.AlternateIdentifierMemberUniqueAttribute{Value: istypes.UniqueAttribute{
				AttributePath: aws.String(path), AttributeValue: document.NewLazyDocument(name),
			}},
		})
		if notFound(err) {
			continue
		}
		if err != nil {
			return "", classifyIC(fmt.Errorf("find user %q by %s: %w", name, path, err))
		}
		return aws.ToString(out.UserId), nil
	}
	return "", fmt.Errorf("%w has user name or email %q (the session name of %s) in identity store %s", ErrUnknownUser, name, principal, storeID)
}

// identityStore returns the id of the instance's identity store, asked
// once per process.
func (p *IdentityCenter) identityStore(ctx context.Context, instanceARN string) (string, error) {
	p.mu.Lock()
	id, ok := p.stores[instanceARN]
	p.mu.Unlock()
	if ok {
		return id, nil
	}
	pages := ssoadmin.NewListInstancesPaginator(p.SSOAdmin, &ssoadmin.ListInstancesInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return "", classifyIC(fmt.Errorf("list Identity Center instances: %w", err))
		}
		for _, in := range page.Instances {
			if aws.ToString(in.InstanceArn) == instanceARN && aws.ToString(in.IdentityStoreId) != "" {
				id = aws.ToString(in.IdentityStoreId)
				p.mu.Lock()
				if p.stores == nil {
					p.stores = map[string]string{}
				}
				p.stores[instanceARN] = id
				p.mu.Unlock()
				return id, nil
			}
		}
	}
	return "", fmt.Errorf("no Identity Center instance %s visible to this account", instanceARN)
}

// ---- helpers ----

func (p *IdentityCenter) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// classifyIC marks throttling, conflicts and service faults transient.
func classifyIC(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, store.ErrConflict) {
		return &TransientError{Err: err}
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ThrottlingException", "Throttling", "TooManyRequestsException", "ConflictException",
			"InternalServerException", "ServiceUnavailableException",
			"ProvisionedThroughputExceededException", "RequestLimitExceeded", "TransactionConflictException":
			return &TransientError{Err: err}
		}
	}
	return err
}

func notFound(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "ResourceNotFoundException"
}

// bounded gives a caller's work a deadline a little before its own (so
// it can answer in time), or defaultBound if it has none.
func bounded(ctx context.Context, now time.Time) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok {
		if d.Sub(now) > 2*stopMargin {
			return context.WithDeadline(ctx, d.Add(-stopMargin))
		}
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, defaultBound)
}

func leaseOwner() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("lease owner: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// jitter spreads d over [d/2, 3d/2).
func jitter(d time.Duration) time.Duration {
	return d/2 + time.Duration(mrand.Int64N(int64(d)))
}

func stateName(s store.AssignmentState) string {
	if s == store.AssignmentAbsent {
		return "absent"
	}
	return string(s)
}
