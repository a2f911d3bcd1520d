package dev.tranche.cli;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

final class LogsCommandTest
{
    @Test
    void followPrintsOnlyWhatIsNew()
    {
        assertThat(LogsCommand.after(List.of(), List.of("a", "b"))).containsExactly("a", "b");
        assertThat(LogsCommand.after(List.of("a", "b", "c"), List.of("b", "c", "d", "e"))).containsExactly("d", "e");
        assertThat(LogsCommand.after(List.of("a", "b"), List.of("a", "b"))).isEmpty();
        // the window moved past everything shown: all of it is new
        assertThat(LogsCommand.after(List.of("a", "b"), List.of("x", "y"))).containsExactly("x", "y");
        // a repeated line: the latest place it was shown wins
        assertThat(LogsCommand.after(List.of("epoch 1", "same"), List.of("same", "epoch 2", "same", "next"))).containsExactly("epoch 2", "same", "next");
    }
}
