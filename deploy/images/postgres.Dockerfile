# PostgreSQL from this machine's Debian packages, laid out and configured
# like the official image compose.yaml names (PGDATA, POSTGRES_USER,
# POSTGRES_PASSWORD, POSTGRES_DB, pg_isready on the PATH, port 5432).
FROM scratch
COPY rootfs/ /
# COPY makes files root's: the data and socket folders are postgres's.
COPY --chown=999:999 rootfs/var/lib/ /var/lib/
COPY --chown=999:999 rootfs/var/run/ /var/run/
USER postgres
ENV PATH=/usr/lib/postgresql/current/bin:/usr/bin:/bin PGDATA=/var/lib/postgresql/data LANG=C.UTF-8
VOLUME /var/lib/postgresql/data
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint"]
CMD ["postgres"]
