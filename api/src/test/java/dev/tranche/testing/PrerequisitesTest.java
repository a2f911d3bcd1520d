package dev.tranche.testing;

import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

final class PrerequisitesTest
{
    @Test
    void aMissingPrerequisiteSkipsOnADevelopersMachine()
    {
        assertThatThrownBy(() -> Prerequisites.require(false, "chromium is not installed", Map.of()))
                .isInstanceOf(TestAbortedException.class)
                .hasMessageContaining("chromium is not installed");
        assertThatThrownBy(() -> Prerequisites.require(false, "chromium is not installed", Map.of("CI", "false")))
                .isInstanceOf(TestAbortedException.class);
    }

    @Test
    void aMissingPrerequisiteFailsInCi()
    {
        assertThatThrownBy(() -> Prerequisites.require(false, "chromium is not installed", Map.of("CI", "true")))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("chromium is not installed")
                .hasMessageContaining("CI=true");
    }

    @Test
    void aPresentPrerequisitePassesEverywhere()
    {
        assertThatCode(() -> Prerequisites.require(true, "chromium is not installed", Map.of("CI", "true"))).doesNotThrowAnyException();
        assertThatCode(() -> Prerequisites.require(true, "chromium is not installed", Map.of())).doesNotThrowAnyException();
    }
}
