package dev.tranche.testing;

import org.junit.jupiter.api.Assumptions;

import java.util.Map;

/**
 * What a test needs from its machine (Chromium, the Fashion-MNIST package, kubectl, a packaged
 * build): on a developer's machine a missing one skips the test, but under {@code CI=true} it fails
 * it, so that CI never passes by skipping what it was meant to run.
 */
public final class Prerequisites
{
    private Prerequisites() {}

    /** Skips the test (fails it under CI=true) unless {@code present}; {@code what} says what is missing and how to get it. */
    public static void require(boolean present, String what)
    {
        require(present, what, System.getenv());
    }

    static void require(boolean present, String what, Map<String, String> environment)
    {
        if (present) {
            return;
        }
        if ("true".equalsIgnoreCase(environment.getOrDefault("CI", "").strip())) {
            throw new AssertionError(what + " (CI=true: a missing prerequisite fails the test rather than skipping it)");
        }
        Assumptions.assumeTrue(false, what);
    }
}
