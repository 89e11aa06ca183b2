package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestRedisURLForms(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want string // fmt of the parsed options that matter
	}{
		{"redis://localhost:6379/2", "single localhost:6379 db=2 user= pass= tls=false"},
		{"redis://localhost", "single localhost:6379 db=0 user= pass= tls=false"},
		{"rediss://:s3cret@redis.example:6380/0?dial_timeout=3s", "single redis.example:6380 db=0 user= pass=s3cret tls=true dial=3s"},
		{"redis://app:p%40ss@10.0.0.1:6379", "single 10.0.0.1:6379 db=0 user=app pass=p@ss tls=false"},
		{"redis://[::1]:6379/1", "single [::1]:6379 db=1 user= pass= tls=false"},

		{"redis-sentinel://:s3cret@s1:26379,s2:26379,s3/mymaster?db=3",
			"sentinel mymaster [s1:26379 s2:26379 s3:26379] db=3 user= pass=s3cret suser= spass= tls=false"},
		{"redis-sentinel://s1:26379/mymaster?sentinel_password=sp&pool_size=7",
			"sentinel mymaster [s1:26379] db=0 user= pass= suser= spass=sp tls=false pool=7"},
		{"rediss-sentinel://app:pw@s1:26379,s2:26380/mymaster?sentinel_username=watch&sentinel_password=sp",
			"sentinel mymaster [s1:26379 s2:26380] db=0 user=app pass=pw suser=watch spass=sp tls=true"},

		{"redis-cluster://n1:7000,n2:7001,n3:7002", "cluster [n1:7000 n2:7001 n3:7002] user= pass= tls=false"},
		{"rediss-cluster://:pw@n1:7000/0?read_timeout=2s", "cluster [n1:7000] user= pass=pw tls=true read=2s"},
	} {
		tg, err := parseRedisURL(tc.url)
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if got := describe(tg); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.url, got, tc.want)
		}
	}
}

func describe(tg *redisTarget) string {
	switch {
	case tg.single != nil:
		o := tg.single
		s := fmt.Sprintf("single %s db=%d user=%s pass=%s tls=%v", o.Addr, o.DB, o.Username, o.Password, o.TLSConfig != nil)
		if o.DialTimeout != 0 {
			s += fmt.Sprintf(" dial=%s", o.DialTimeout)
		}
		return s
	case tg.failover != nil:
		o := tg.failover
		s := fmt.Sprintf("sentinel %s %v db=%d user=%s pass=%s suser=%s spass=%s tls=%v", o.MasterName, o.SentinelAddrs, o.DB,
			o.Username, o.Password, o.SentinelUsername, o.SentinelPassword, o.TLSConfig != nil)
		if o.PoolSize != 0 {
			s += fmt.Sprintf(" pool=%d", o.PoolSize)
		}
		return s
	default:
		o := tg.cluster
		s := fmt.Sprintf("cluster %v user=%s pass=%s tls=%v", o.Addrs, o.Username, o.Password, o.TLSConfig != nil)
		if o.ReadTimeout != 0 {
			s += fmt.Sprintf(" read=%s", o.ReadTimeout)
		}
		return s
	}
}

func TestRedisURLErrorsNameTheVariableNotThePassword(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"localhost:6379", "scheme"},
		{"http://:hunter2@localhost:6379", "not supported"},
		{"redis://:hunter2@", "no host"},
		{"redis://:hunter2@h1:6379,h2:6379", "redis-cluster"},
		{"redis://:hunter2@h1:6379?addr=h2:6379", "redis-cluster"},
		{"redis://:hunter2@h1:6379?pool_size=many", "pool_size"},
		{"redis://:hunter2@h1:6379?bogus=1", "bogus"},
		{"redis://:hunter2@h1:99999", "port"},
		{"redis-sentinel://:hunter2@s1:26379", "master name"},
		{"redis-sentinel://:hunter2@s1:26379/m?password=x", "password"},
		{"redis-sentinel://:hunter2@s1:26379/m?db=x", "database"},
		{"redis-cluster://:hunter2@n1:7000/3", "only database 0"},
		{"redis-cluster://:hunter2@n1:7000?db=1", "db"},
		{"redis://:hun#ter2@h1:6379", "%23"},
		{"redis://:hun/ter2@h1:6379", "percent-encode"},
		{"redis://:hun?ter2@h1:6379", "percent-encode"},
	} {
		_, err := loadConfig(envOf(map[string]string{"TRACKHOOK_REDIS_URL": tc.url}))
		if err == nil {
			t.Errorf("%s: accepted", tc.url)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "TRACKHOOK_REDIS_URL") || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: error %q does not mention TRACKHOOK_REDIS_URL and %q", tc.url, msg, tc.want)
		}
		if strings.Contains(msg, "hun") || strings.Contains(msg, "ter2") {
			t.Errorf("%s: error shows the password: %s", tc.url, msg)
		}
	}
}

func TestRedisTargetLogLineHasNoPassword(t *testing.T) {
	for _, u := range []string{
		"redis://:hunter2@h1:6379/1",
		"redis-sentinel://:hunter2@s1:26379/mymaster?sentinel_password=hunter2",
		"redis-cluster://:hunter2@n1:7000,n2:7001",
	} {
		tg, err := parseRedisURL(u)
		if err != nil {
			t.Fatal(err)
		}
		if s := tg.String(); strings.Contains(s, "hunter2") {
			t.Errorf("%s: String() = %s", u, s)
		}
	}
}

func TestRedisTargetMakesIndependentClients(t *testing.T) {
	tg, err := parseRedisURL("redis-cluster://n1:7000?dial_timeout=1s")
	if err != nil {
		t.Fatal(err)
	}
	a, b := tg.newClient(), tg.newClient()
	defer a.Close()
	defer b.Close()
	if a == b {
		t.Fatal("one client for two callers")
	}
	if tg.cluster.DialTimeout != time.Second {
		t.Fatalf("options changed by use: %+v", tg.cluster.DialTimeout)
	}
}

func TestAdminKeysConfig(t *testing.T) {
	c, err := loadConfig(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.AdminKeys) != 0 {
		t.Fatalf("admin keys by default: %v", c.AdminKeys)
	}
	_, err = loadConfig(envOf(map[string]string{"TRACKHOOK_ADMIN_KEYS": "short"}))
	if err == nil || !strings.Contains(err.Error(), "TRACKHOOK_ADMIN_KEYS") || strings.Contains(err.Error(), "short,") {
		t.Fatalf("a 5-character admin key: %v", err)
	}
	c, err = loadConfig(envOf(map[string]string{"TRACKHOOK_ADMIN_KEYS": "0123456789abcdef, fedcba9876543210"}))
	if err != nil || len(c.AdminKeys) != 2 {
		t.Fatalf("two keys: %v %v", c, err)
	}
}
