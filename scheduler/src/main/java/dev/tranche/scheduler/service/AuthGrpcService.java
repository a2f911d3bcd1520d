package dev.tranche.scheduler.service;

import com.google.protobuf.Timestamp;
import dev.tranche.proto.v1.AuditEvent;
import dev.tranche.proto.v1.AuthServiceGrpc;
import dev.tranche.proto.v1.CreateTokenRequest;
import dev.tranche.proto.v1.CreateTokenResponse;
import dev.tranche.proto.v1.ListAuditEventsRequest;
import dev.tranche.proto.v1.ListAuditEventsResponse;
import dev.tranche.proto.v1.ListTokensRequest;
import dev.tranche.proto.v1.ListTokensResponse;
import dev.tranche.proto.v1.RevokeTokenRequest;
import dev.tranche.proto.v1.Token;
import dev.tranche.proto.v1.WhoAmIRequest;
import dev.tranche.proto.v1.WhoAmIResponse;
import dev.tranche.scheduler.security.AuditEntry;
import dev.tranche.scheduler.security.AuditLog;
import dev.tranche.scheduler.security.Callers;
import dev.tranche.scheduler.security.IssuedToken;
import dev.tranche.scheduler.security.Principal;
import dev.tranche.scheduler.security.Role;
import dev.tranche.scheduler.security.TokenRecord;
import dev.tranche.scheduler.security.TokenService;
import io.grpc.stub.StreamObserver;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/** tranche.v1.AuthService: who am I, tokens, and the audit log. */
public final class AuthGrpcService
        extends AuthServiceGrpc.AuthServiceImplBase
{
    private static final int DEFAULT_AUDIT_LIMIT = 100;
    private static final int MAX_AUDIT_LIMIT = 1000;

    private final TokenService tokens;
    private final AuditLog auditLog;

    public AuthGrpcService(TokenService tokens, AuditLog auditLog)
    {
        this.tokens = requireNonNull(tokens, "tokens is null");
        this.auditLog = requireNonNull(auditLog, "auditLog is null");
    }

    @Override
    public void whoAmI(WhoAmIRequest request, StreamObserver<WhoAmIResponse> observer)
    {
        GrpcErrors.unary(observer, () -> {
            Principal caller = Callers.current();
            if (!(caller instanceof Principal.User user)) {
                throw Callers.denied("a worker credential has no user");
            }
            TokenRecord token = tokens.find(user.tokenId()).orElseThrow(() -> Callers.denied("token " + user.tokenId() + " is gone"));
            return WhoAmIResponse.newBuilder().setToken(token(token)).build();
        });
    }

    @Override
    public void createToken(CreateTokenRequest request, StreamObserver<CreateTokenResponse> observer)
    {
        GrpcErrors.unary(observer, () -> {
            if (request.getTtlSeconds() < 0) {
                throw new IllegalArgumentException("ttl_seconds must be >= 0 (0: never expires): got " + request.getTtlSeconds());
            }
            Role role = switch (request.getRole()) {
                case ADMIN -> Role.ADMIN;
                case MEMBER -> Role.MEMBER;
                case VIEWER -> Role.VIEWER;
                default -> throw new IllegalArgumentException("role must be admin, member or viewer");
            };
            IssuedToken issued = tokens.issue(Callers.current().describe(), request.getSubject(), role, request.getProjectsList(),
                    request.getTtlSeconds() == 0 ? Optional.empty() : Optional.of(Duration.ofSeconds(request.getTtlSeconds())));
            return CreateTokenResponse.newBuilder().setToken(token(issued.token())).setSecret(issued.secret()).build();
        });
    }

    @Override
    public void listTokens(ListTokensRequest request, StreamObserver<ListTokensResponse> observer)
    {
        GrpcErrors.unary(observer, () -> {
            ListTokensResponse.Builder response = ListTokensResponse.newBuilder();
            tokens.list(request.getIncludeInactive()).forEach(token -> response.addTokens(token(token)));
            return response.build();
        });
    }

    @Override
    public void revokeToken(RevokeTokenRequest request, StreamObserver<Token> observer)
    {
        GrpcErrors.unary(observer, () -> {
            if (request.getId().isEmpty()) {
                throw new IllegalArgumentException("id is required (see `tranche token list`)");
            }
            return token(tokens.revoke(request.getId()));
        });
    }

    @Override
    public void listAuditEvents(ListAuditEventsRequest request, StreamObserver<ListAuditEventsResponse> observer)
    {
        GrpcErrors.unary(observer, () -> {
            if (request.getLimit() < 0 || request.getLimit() > MAX_AUDIT_LIMIT) {
                throw new IllegalArgumentException("limit must be in [1, " + MAX_AUDIT_LIMIT + "] (0 for " + DEFAULT_AUDIT_LIMIT + "): got " + request.getLimit());
            }
            if (request.getBeforeId() < 0) {
                throw new IllegalArgumentException("before_id must be >= 0: got " + request.getBeforeId());
            }
            ListAuditEventsResponse.Builder response = ListAuditEventsResponse.newBuilder();
            // what was refused a moment ago is in the answer
            for (AuditEntry entry : auditLog.recent(request.getLimit() == 0 ? DEFAULT_AUDIT_LIMIT : request.getLimit(), request.getBeforeId(), request.getDeniedOnly())) {
                response.addEvents(AuditEvent.newBuilder()
                        .setId(entry.id())
                        .setAt(timestamp(entry.at()))
                        .setActor(entry.actor())
                        .setAction(entry.action())
                        .setTarget(entry.target())
                        .setOutcome(entry.outcome())
                        .setDetail(entry.detail())
                        .setRemoteAddress(entry.remoteAddress()));
            }
            return response.build();
        });
    }

    static Token token(TokenRecord record)
    {
        Token.Builder token = Token.newBuilder()
                .setId(record.id())
                .setSubject(record.subject())
                .setRole(switch (record.role()) {
                    case ADMIN -> dev.tranche.proto.v1.Role.ADMIN;
                    case MEMBER -> dev.tranche.proto.v1.Role.MEMBER;
                    case VIEWER -> dev.tranche.proto.v1.Role.VIEWER;
                })
                .addAllProjects(record.projects())
                .setCreatedAt(timestamp(record.createdAt()))
                .setCreatedBy(record.createdBy());
        record.expiresAt().ifPresent(at -> token.setExpiresAt(timestamp(at)));
        record.revokedAt().ifPresent(at -> token.setRevokedAt(timestamp(at)));
        record.lastUsedAt().ifPresent(at -> token.setLastUsedAt(timestamp(at)));
        return token.build();
    }

    private static Timestamp timestamp(Instant at)
    {
        return Timestamp.newBuilder().setSeconds(at.getEpochSecond()).setNanos(at.getNano()).build();
    }
}
