package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// TRACKHOOK_REDIS_URL takes one of three forms:
//
//	redis://[[user]:password@]host:port[/db][?option=value…]             one server (rediss:// for TLS)
//	redis-sentinel://[[user]:password@]host:port[,host:port…]/master[?db=N&sentinel_password=…&option=value…]
//	redis-cluster://[[user]:password@]host:port[,host:port…][?option=value…]
//
// The sentinel and cluster forms take a comma-separated list of seed
// addresses; rediss-sentinel:// and rediss-cluster:// use TLS. The
// user and password are the Redis (data node) credentials; Sentinels that
// require their own take sentinel_username and sentinel_password. Options
// are go-redis's, in snake case (dial_timeout=5s, pool_size=20, …).
const (
	schemeRedis    = "redis"
	schemeSentinel = "redis-sentinel"
	schemeCluster  = "redis-cluster"
)

// redisTarget is a parsed TRACKHOOK_REDIS_URL: exactly one of the option
// sets is non-nil.
type redisTarget struct {
	single   *redis.Options
	failover *redis.FailoverOptions
	cluster  *redis.ClusterOptions
}

// parseRedisURL checks and parses TRACKHOOK_REDIS_URL. Its errors never
// repeat the URL, which may hold a password.
func parseRedisURL(raw string) (*redisTarget, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, fmt.Errorf("no scheme: want redis://[:password@]host:port/db, redis-sentinel://host:port,host:port/master or redis-cluster://host:port,host:port")
	}
	var base, defaultPort string
	switch scheme {
	case "redis", "rediss":
		base, defaultPort = schemeRedis, "6379"
	case "redis-sentinel", "rediss-sentinel":
		base, defaultPort = schemeSentinel, "26379"
	case "redis-cluster", "rediss-cluster":
		base, defaultPort = schemeCluster, "6379"
	default:
		return nil, fmt.Errorf("scheme %q is not supported: want redis://[:password@]host:port/db (or rediss://), "+
			"redis-sentinel://[:password@]host:port[,host:port…]/master or redis-cluster://[:password@]host:port[,host:port…]", scheme)
	}
	goScheme := "redis"
	if strings.HasPrefix(scheme, "rediss") {
		goScheme = "rediss"
	}

	// The authority holds a comma-separated host list, which url.Parse does
	// not take; split it off by hand.
	authority, pathQuery := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, pathQuery = rest[:i], rest[i:]
	}
	userinfo := ""
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		userinfo, authority = authority[:i], authority[i+1:]
	}
	if strings.Contains(pathQuery, "#") {
		return nil, fmt.Errorf("a # in the URL: percent-encode it (%%23) in a password")
	}
	u, err := url.Parse(goScheme + "://placeholder" + pathQuery)
	if err != nil {
		return nil, fmt.Errorf("cannot parse the path or options")
	}
	var user *url.Userinfo
	if userinfo != "" {
		ui, err := url.Parse(goScheme + "://" + userinfo + "@placeholder")
		if err != nil {
			return nil, fmt.Errorf("cannot parse the user and password: percent-encode special characters")
		}
		user = ui.User
	}
	// Errors about hosts do not quote them: with an unencoded / or ? in
	// the password, what looks like a host is part of the password.
	var hosts []string
	for i, h := range strings.Split(authority, ",") {
		if h = strings.TrimSpace(h); h == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(h); err != nil { // no port given
			h = net.JoinHostPort(strings.Trim(h, "[]"), defaultPort)
		}
		host, port, err := net.SplitHostPort(h)
		if err != nil || host == "" {
			return nil, fmt.Errorf("host %d is not host:port (percent-encode / ? # @ in a password)", i+1)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("host %d: the port is not a number from 1 to 65535", i+1)
		}
		hosts = append(hosts, h)
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("no host: want %s://host:port…", scheme)
	}
	q := u.Query()

	switch base {
	case schemeRedis:
		if len(hosts) > 1 {
			return nil, fmt.Errorf("several hosts in a redis:// URL: use redis-sentinel://…/master for Sentinel or redis-cluster:// for Redis Cluster")
		}
		if q.Has("addr") {
			return nil, fmt.Errorf("addr= options: use redis-cluster://host:port,host:port for Redis Cluster or redis-sentinel://host:port,host:port/master for Sentinel")
		}
		u.Host, u.User = hosts[0], user
		opt, err := redis.ParseURL(u.String())
		if err != nil {
			return nil, cleanErr(err)
		}
		return &redisTarget{single: opt}, nil

	case schemeSentinel:
		master := strings.Trim(u.Path, "/")
		if master == "" || strings.Contains(master, "/") {
			return nil, fmt.Errorf("no master name: want %s://host:port,host:port/mymaster[?db=N]", scheme)
		}
		for _, k := range []string{"master_name", "addr", "username", "password"} {
			if q.Has(k) {
				return nil, fmt.Errorf("option %s is not taken here: the master name is the path, hosts and credentials go before it", k)
			}
		}
		// go-redis's failover URL has the Sentinel credentials in the
		// userinfo and the data-node credentials in options; ours is the
		// other way round, like redis:// and the other client libraries.
		sentinel := url.UserPassword(q.Get("sentinel_username"), q.Get("sentinel_password"))
		hasSentinelAuth := q.Has("sentinel_username") || q.Has("sentinel_password")
		q.Del("sentinel_username")
		q.Del("sentinel_password")
		if user != nil {
			if name := user.Username(); name != "" {
				q.Set("username", name)
			}
			if pw, ok := user.Password(); ok {
				q.Set("password", pw)
			}
		}
		q.Set("master_name", master)
		for _, h := range hosts[1:] {
			q.Add("addr", h)
		}
		g := url.URL{Scheme: goScheme, Host: hosts[0], RawQuery: q.Encode()}
		if hasSentinelAuth {
			g.User = sentinel
		}
		opt, err := redis.ParseFailoverURL(g.String())
		if err != nil {
			return nil, cleanErr(err)
		}
		return &redisTarget{failover: opt}, nil

	default: // cluster
		if p := strings.Trim(u.Path, "/"); p != "" && p != "0" {
			return nil, fmt.Errorf("database %q: Redis Cluster has only database 0; leave the path out", p)
		}
		if q.Has("db") || q.Has("addr") {
			return nil, fmt.Errorf("options db and addr are not taken here: Redis Cluster has only database 0, and seed hosts go in the host list")
		}
		for _, h := range hosts[1:] {
			q.Add("addr", h)
		}
		g := url.URL{Scheme: goScheme, Host: hosts[0], User: user, RawQuery: q.Encode()}
		opt, err := redis.ParseClusterURL(g.String())
		if err != nil {
			return nil, cleanErr(err)
		}
		return &redisTarget{cluster: opt}, nil
	}
}

// cleanErr drops go-redis's "redis: " prefix; its own errors name the
// offending option, never the password. An error from url.Parse would
// repeat the whole URL, so it is not passed on.
func cleanErr(err error) error {
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		return errors.New("cannot parse the URL")
	}
	return errors.New(strings.TrimPrefix(err.Error(), "redis: "))
}

// newClient connects: a new client (with its own pool) on every call.
func (t *redisTarget) newClient() redis.UniversalClient {
	switch {
	case t.failover != nil:
		o := *t.failover
		return redis.NewFailoverClient(&o)
	case t.cluster != nil:
		o := *t.cluster
		return redis.NewClusterClient(&o)
	default:
		o := *t.single
		return redis.NewClient(&o)
	}
}

// MakeRedisClient makes t an asynq.RedisConnOpt, for components (the queue
// dashboard) that insist on opening, and closing, their own connection.
func (t *redisTarget) MakeRedisClient() any { return t.newClient() }

// String describes the target for logs, without credentials.
func (t *redisTarget) String() string {
	switch {
	case t.failover != nil:
		return fmt.Sprintf("sentinel master %q via %s, db %d", t.failover.MasterName, strings.Join(t.failover.SentinelAddrs, ","), t.failover.DB)
	case t.cluster != nil:
		return "cluster via " + strings.Join(t.cluster.Addrs, ",")
	default:
		return fmt.Sprintf("%s, db %d", t.single.Addr, t.single.DB)
	}
}

// openRedis connects to TRACKHOOK_REDIS_URL, or starts an in-process Redis
// when it is unset. The client is the one every part of the process shares
// (tracking store, asynq client, server and inspector); the target is for
// the queue dashboard, which opens its own.
func openRedis(ctx context.Context, cfg *config, log *slog.Logger) (redis.UniversalClient, *redisTarget, func(), error) {
	if cfg.Redis == nil {
		return openEmbeddedRedis(log)
	}
	rdb := cfg.Redis.newClient()
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		// Not fatal: Redis may come up after us; /readyz says so meanwhile.
		log.Warn("redis not reachable yet; webhooks answer 503 until it is", "redis", cfg.Redis.String(), "err", err)
	} else {
		log.Info("redis connected", "redis", cfg.Redis.String())
	}
	return rdb, cfg.Redis, func() { _ = rdb.Close() }, nil
}

func openEmbeddedRedis(log *slog.Logger) (redis.UniversalClient, *redisTarget, func(), error) {
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		return nil, nil, nil, fmt.Errorf("start embedded redis: %w", err)
	}
	log.Warn("TRACKHOOK_REDIS_URL is not set: using an EMBEDDED IN-MEMORY Redis; all trackings and queued notifications are LOST when trackhook exits. Set TRACKHOOK_REDIS_URL for real use.",
		"addr", mr.Addr())
	// miniredis only expires keys when its clock is advanced.
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				mr.FastForward(time.Second)
			}
		}
	}()
	target := &redisTarget{single: &redis.Options{Addr: mr.Addr()}}
	rdb := target.newClient()
	return rdb, target, func() { _ = rdb.Close(); close(stop); mr.Close() }, nil
}
