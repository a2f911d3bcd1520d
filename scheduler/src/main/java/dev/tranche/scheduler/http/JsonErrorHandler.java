package dev.tranche.scheduler.http;

import com.google.gson.JsonObject;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.handler.ErrorHandler;

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
        setShowServlet(false);
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
