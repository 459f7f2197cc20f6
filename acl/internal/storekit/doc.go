// Package storekit holds what the acl.Store backends (filestore,
// redisstore) share word for word: the subscriber buffer that turns dropped
// events into one owed acl.EventResync, input validation, the stored record
// shapes, the orders listings are reported in, and the common Config
// defaults. It lives under acl/internal so that only the backends can import
// it; behaviour that differs between backends stays in each backend.
package storekit
