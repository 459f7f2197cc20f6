package acltest

import "testing"

type testCase struct {
	name string
	run  func(e *env)
}

// Run runs every conformance case against the backend h opens, each on a
// fresh store.
func Run(t *testing.T, h Harness) {
	if h.Open == nil || h.Reopen == nil || h.EventBuffer < 1 {
		t.Fatal("acltest: Harness needs Open, Reopen and EventBuffer")
	}
	var cases []testCase
	for _, group := range [][]testCase{userCases(), groupCases(), workspaceCases(), uidCases(), grantCases(), tokenCases(), keyOwnerCases(), eventCases(), durabilityCases(), workspaceSettingsCases(), agentKeyCases(), certRevocationCases(), onceCases(), transferCases()} {
		cases = append(cases, group...)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(newEnv(t, h)) })
	}
}
