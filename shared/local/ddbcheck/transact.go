package ddbcheck

import (
	"encoding/json"
	"strings"
)

// checkTransactWrite validates a TransactWriteItems request: 1 to 100
// actions, each exactly one of ConditionCheck, Put, Delete or Update and
// valid on its own (placeholders are per action), and no two on the same
// item.
func checkTransactWrite(items []transactItem) *ValidationError {
	if err := transactLength(len(items)); err != nil {
		return err
	}
	for _, it := range items {
		n := 0
		for _, a := range []*params{it.ConditionCheck, it.Put, it.Delete, it.Update} {
			if a != nil {
				n++
			}
		}
		if n != 1 || it.Get != nil {
			return refuse("TransactItems can only contain one of Check, Put, Update or Delete")
		}
		var err *ValidationError
		switch {
		case it.ConditionCheck != nil:
			err = it.ConditionCheck.check([]exprKind{conditionExpr}, nil, nil)
		case it.Put != nil:
			err = it.Put.check([]exprKind{conditionExpr}, nil, nil)
		case it.Delete != nil:
			err = it.Delete.check([]exprKind{conditionExpr}, nil, nil)
		case it.Update != nil:
			err = it.Update.check([]exprKind{updateExpr, conditionExpr}, nil, it.Update.Key)
		}
		if err != nil {
			return err
		}
	}
	actions := make([]*params, len(items))
	for i, it := range items {
		actions[i] = firstOf(it.ConditionCheck, it.Put, it.Delete, it.Update)
	}
	if duplicateItems(actions) {
		return refuse("Transaction request cannot include multiple operations on one item")
	}
	return nil
}

// checkTransactGet validates a TransactGetItems request: 1 to 100 Gets,
// each valid on its own, no two of the same item.
func checkTransactGet(items []transactItem) *ValidationError {
	if err := transactLength(len(items)); err != nil {
		return err
	}
	actions := make([]*params, 0, len(items))
	for _, it := range items {
		if it.Get == nil {
			continue // a missing Get is the emulator's to refuse
		}
		if err := it.Get.check([]exprKind{projectionExpr}, nil, nil); err != nil {
			return err
		}
		actions = append(actions, it.Get)
	}
	if duplicateItems(actions) {
		return refuse("Transaction request cannot include multiple operations on one item")
	}
	return nil
}

func transactLength(n int) *ValidationError {
	switch {
	case n == 0:
		return lengthError("transactItems", n, "Member must have length greater than or equal to 1")
	case n > MaxTransactItems:
		return lengthError("transactItems", n, "Member must have length less than or equal to 100")
	}
	return nil
}

func firstOf(ps ...*params) *params {
	for _, p := range ps {
		if p != nil {
			return p
		}
	}
	return nil
}

// duplicateItems reports whether two actions name the same item. Actions
// with a Key name it directly; a Put names it by the attributes of its
// Item that the other actions on the same table use as their key. A table
// only written by Puts has no key visible in the request: those Puts are
// left for the emulator, which knows the table's key schema.
func duplicateItems(actions []*params) bool {
	keyNames := map[string][]string{}
	for _, a := range actions {
		if a != nil && len(a.Key) > 0 {
			if _, ok := keyNames[a.TableName]; !ok {
				keyNames[a.TableName] = sortedKeys(a.Key)
			}
		}
	}
	seen := map[string]bool{}
	for _, a := range actions {
		if a == nil {
			continue
		}
		key := a.Key
		if len(key) == 0 && a.Item != nil {
			names, ok := keyNames[a.TableName]
			if !ok {
				continue
			}
			key = map[string]json.RawMessage{}
			for _, n := range names {
				if v, ok := a.Item[n]; ok {
					key[n] = v
				}
			}
		}
		id := itemID(a.TableName, key)
		if seen[id] {
			return true
		}
		seen[id] = true
	}
	return false
}

// itemID is a canonical name of table and key.
func itemID(table string, key map[string]json.RawMessage) string {
	var b strings.Builder
	b.WriteString(table)
	for _, k := range sortedKeys(key) {
		b.WriteString("\x00" + k + "\x00")
		var v any
		if json.Unmarshal(key[k], &v) == nil {
			c, _ := json.Marshal(v) // re-encoding sorts map keys
			b.Write(c)
		} else {
			b.Write(key[k])
		}
	}
	return b.String()
}

type writeRequest struct {
	PutRequest    *struct{ Item map[string]json.RawMessage }
	DeleteRequest *struct{ Key map[string]json.RawMessage }
}

type keysAndAttributes struct {
	params
	Keys []map[string]json.RawMessage
}

// checkBatchWrite validates a BatchWriteItem request: at most 25 requests
// (and 1 to 25 per table), valid attribute values, no item twice.
func checkBatchWrite(tables map[string]json.RawMessage) *ValidationError {
	total := 0
	names := sortedKeys(tables)
	parsed := map[string][]writeRequest{}
	for _, t := range names {
		var reqs []writeRequest
		if json.Unmarshal(tables[t], &reqs) != nil {
			return nil
		}
		if len(reqs) == 0 || len(reqs) > MaxBatchWrite {
			return refuse("1 validation error detected: Value '{%s=[%d items]}' at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]", t, len(reqs))
		}
		total += len(reqs)
		parsed[t] = reqs
	}
	if total > MaxBatchWrite {
		return refuse("Too many items requested for the BatchWriteItem call")
	}
	for _, t := range names {
		var actions []*params
		for _, r := range parsed[t] {
			switch {
			case r.PutRequest != nil:
				if err := itemFault(r.PutRequest.Item); err != nil {
					return err
				}
				actions = append(actions, &params{TableName: t, Item: r.PutRequest.Item})
			case r.DeleteRequest != nil:
				if err := itemFault(r.DeleteRequest.Key); err != nil {
					return err
				}
				actions = append(actions, &params{TableName: t, Key: r.DeleteRequest.Key})
			}
		}
		if duplicateItems(actions) {
			return refuse("Provided list of item keys contains duplicates")
		}
	}
	return nil
}

// checkBatchGet validates a BatchGetItem request: per table the rules of
// a GetItem's projection, at most 100 keys in all, no key twice.
func checkBatchGet(tables map[string]json.RawMessage) *ValidationError {
	total := 0
	for _, t := range sortedKeys(tables) {
		var ka keysAndAttributes
		if json.Unmarshal(tables[t], &ka) != nil {
			return nil
		}
		if err := ka.check([]exprKind{projectionExpr}, []string{"AttributesToGet"}, nil); err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, k := range ka.Keys {
			if err := itemFault(k); err != nil {
				return err
			}
			id := itemID(t, k)
			if seen[id] {
				return refuse("Provided list of item keys contains duplicates")
			}
			seen[id] = true
		}
		total += len(ka.Keys)
	}
	if total > MaxBatchGet {
		return refuse("Too many items requested for the BatchGetItem call")
	}
	return nil
}
