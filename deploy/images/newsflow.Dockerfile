# The final stages of deploy/Dockerfile, on a root filesystem build.sh
# assembles instead of distroless (same user, files, entrypoint and volume).
FROM scratch AS nats
COPY base/ /
COPY nats-server newsflow /
COPY --chown=65532:65532 data/ /data/
COPY --chown=65532:65532 data/ /home/nonroot/
COPY nats.conf /etc/nats/nats.conf
USER nonroot
VOLUME /data
EXPOSE 4222 6222 8222
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=6 \
  CMD ["/newsflow", "healthcheck", "--url", "http://127.0.0.1:8222/healthz"]
ENTRYPOINT ["/nats-server"]
CMD ["-c", "/etc/nats/nats.conf"]

FROM scratch AS newsflow
COPY base/ /
COPY newsflow /newsflow
COPY --chown=65532:65532 data/ /data/
COPY --chown=65532:65532 data/ /home/nonroot/
COPY feeds.txt /etc/newsflow/feeds.txt
USER nonroot
VOLUME /data
# The status server listens on the container's loopback (for the health
# check) unless told otherwise: NEWSFLOW_HTTP=:8080 with NEWSFLOW_API_TOKEN
# (or NEWSFLOW_API_TOKEN_FILE) opens it to the outside, as compose.yaml does.
ENV NEWSFLOW_DATA=/data NEWSFLOW_FEEDS=/etc/newsflow/feeds.txt NEWSFLOW_HTTP=8080
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=6 CMD ["/newsflow", "healthcheck"]
ENTRYPOINT ["/newsflow"]
CMD ["run"]
