# aitrail in a container: a static binary on a distroless base, run as a
# non-root user, with its log in the volume /data.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) \
#                --build-arg REVISION=$(git rev-parse HEAD) -t aitrail .
#   docker run -d --name aitrail -p 127.0.0.1:8080:8080 -v aitrail-data:/data \
#              -e AITRAIL_UPSTREAM=http://ollama:11434 aitrail
#   docker logs aitrail        # shows the first admin key, once
#
# Inside the container the gateway listens on 0.0.0.0:8080, because a
# published port reaches it only on an address other than loopback. It
# serves plain HTTP: publish the port on loopback (as above) behind a TLS
# reverse proxy, or keep it on a private container network; never publish
# it on a public interface without TLS. docs/OPERATIONS.md has the rest.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
ARG REVISION=""
# Static (modernc SQLite and pgx are pure Go), reproducible: no paths, no
# build id, the version and revision given rather than read from .git
# (which .dockerignore leaves out).
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -buildid= -X main.version=${VERSION} -X main.revision=${REVISION}" \
      -o /out/aitrail ./cmd/aitrail \
 && mkdir -p /out/data

# distroless/static: CA certificates, time zones, /etc/passwd with the
# "nonroot" user (65532), no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/aitrail /usr/local/bin/aitrail
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
VOLUME ["/data"]
EXPOSE 8080
ENV AITRAIL_DATA=/data
ENTRYPOINT ["/usr/local/bin/aitrail"]
CMD ["serve", "--listen", "0.0.0.0:8080", "--data", "/data"]
