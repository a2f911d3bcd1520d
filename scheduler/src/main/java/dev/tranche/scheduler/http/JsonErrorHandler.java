package dev.tranche.scheduler.http;

import com.google.gson.JsonObject;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Jetty's answer to a request it cannot parse at all (a bad request line, a NUL in the path, headers
 * over the limit): the API's JSON error instead of Jetty's HTML page, and never a stack trace.
 */
final class JsonErrorHandler
        extends ErrorHandler
{
    JsonErrorHandler()
    {
        setShowStacks(false);
    }

    /** Errors Jetty answers itself once it has a request (an ambiguous path, a header it refuses): the same JSON. */
    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause, Callback callback)
    {
        HttpFields.Mutable fields = HttpFields.build();
        ByteBuffer body = badMessageError(code, message, fields);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.write(true, body, callback);
    }

    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields)
    {
        JsonObject body = new JsonObject();
        body.addProperty("code", status == 431 || status == 414 || status == 413 ? "REQUEST_TOO_LARGE" : "INVALID_ARGUMENT");
        body.addProperty("message", "the request could not be read as HTTP: " + (reason == null || reason.isBlank() ? "malformed" : reason)
                + (status == 431 ? " (headers over the size limit)" : status == 414 ? " (the URI is over the size limit)" : ""));
        fields.put(new HttpField(HttpHeader.CONTENT_TYPE, "application/json"));
        return ByteBuffer.wrap(body.toString().getBytes(StandardCharsets.UTF_8));
    }
}
