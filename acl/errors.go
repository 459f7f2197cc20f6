package acl

import (
	"errors"
	"fmt"
)

// Sentinel errors; backends return the typed errors below, which match these
// with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrInvalid  = errors.New("invalid")
)

// NotFoundError says which thing was missing.
type NotFoundError struct {
	Kind string // "user", "group", "org", "workspace", "key", "token", "grant"
	Name string
}

func (e *NotFoundError) Error() string        { return fmt.Sprintf("%s %q not found", e.Kind, e.Name) }
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// ConflictError says which thing already exists or blocks the write.
type ConflictError struct {
	Kind   string
	Name   string
	Detail string // optional, replaces the default "already exists"
	// Err is an optional sentinel the error also matches (ErrKeyInUse).
	Err error
}

func (e *ConflictError) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("%s %q: %s", e.Kind, e.Name, e.Detail)
	}
	return fmt.Sprintf("%s %q already exists", e.Kind, e.Name)
}
func (e *ConflictError) Is(target error) bool {
	return target == ErrConflict || (e.Err != nil && target == e.Err)
}

// InvalidError is bad input, named by field.
type InvalidError struct {
	Field  string
	Detail string
}

func (e *InvalidError) Error() string        { return e.Detail }
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// NotFound is shorthand for a *NotFoundError.
func NotFound(kind, name string) error { return &NotFoundError{Kind: kind, Name: name} }

// Conflict is shorthand for a *ConflictError saying name already exists.
func Conflict(kind, name string) error { return &ConflictError{Kind: kind, Name: name} }

// Invalid is shorthand for an *InvalidError.
func Invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Detail: fmt.Sprintf(format, args...)}
}
