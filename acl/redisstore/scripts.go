package redisstore

import (
	"embed"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

//go:embed lua/*.lua
var luaFiles embed.FS

// scripts holds one script per operation, each the prelude plus the
// operation's file.
var scripts = loadScripts()

func loadScripts() map[string]*redis.Script {
	prelude, err := luaFiles.ReadFile("lua/prelude.lua")
	if err != nil {
		panic(fmt.Sprintf("redisstore: %v", err))
	}
	entries, err := luaFiles.ReadDir("lua")
	if err != nil {
		panic(fmt.Sprintf("redisstore: %v", err))
	}
	out := make(map[string]*redis.Script, len(entries))
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".lua")
		if name == "prelude" {
			continue
		}
		body, err := luaFiles.ReadFile("lua/" + e.Name())
		if err != nil {
			panic(fmt.Sprintf("redisstore: %v", err))
		}
		out[name] = redis.NewScript(string(prelude) + string(body))
	}
	return out
}

func script(name string) *redis.Script {
	s, ok := scripts[name]
	if !ok {
		panic("redisstore: no script " + name)
	}
	return s
}
