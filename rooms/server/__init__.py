"""Running the platform: everything that knows the server it runs under.

- `daphne`: the one module that knows daphne's, autobahn's and Twisted's internals
  (the room sockets' fast path, and the patches daphne gets at start-up from
  config.asgi), each checked against the installed versions before use.
- `cluster`: several daphne processes behind nginx on one machine, as
  `manage.py run_cluster` (`make run-cluster`) serves them and the scale-out and
  fault tests start and break them (with Janus servers and coturn beside them).
- `media`: the Janus servers of this machine and coturn, started from the files
  `media_config` writes beside daphne (`manage.py run_platform`, `make run`) or the
  cluster, and stopped with them (docs/media.md).

config/ keeps the configuration these read: settings, config/asgi.py's routing and
config/nginx/cluster.conf.
"""
