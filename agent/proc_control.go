package agent

import (
	"github.com/wsgate/wsgate/tunnel/control"
)

// procControl answers the control ops about users' processes.
func (a *Agent) procControl(req control.Request) control.Response {
	if req.Op == control.OpUsers {
		users := a.procs.users()
		if users == nil {
			users = []string{} // "none" is an answer, not a missing field
		}
		return control.Response{Users: users}
	}
	if len(req.Users) == 0 || len(req.Users) > control.MaxEndUsers {
		return control.Response{Error: "end-users: name 1 to 64 users"}
	}
	ended := []control.EndedProcess{}
	for _, e := range a.procs.endUsers(req.Users) {
		ended = append(ended, control.EndedProcess{User: e.user, PID: e.pid, Command: e.command})
	}
	return control.Response{Ended: ended}
}
