package dev.tranche.cli;

import dev.tranche.proto.v1.ExperimentState;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;
import java.util.stream.Collectors;

/** "running" or "RUNNING" to the state; the protobuf placeholders are not states a user can ask for. */
final class StateConverter
        implements ITypeConverter<ExperimentState>, Iterable<String>
{
    @Override
    public ExperimentState convert(String value)
    {
        String name = value.trim().toUpperCase(Locale.ROOT);
        for (ExperimentState state : ExperimentState.values()) {
            if (isReal(state) && state.name().equals(name)) {
                return state;
            }
        }
        throw new TypeConversionException("unknown state '" + value + "': use one of " + String.join(", ", this));
    }

    @Override
    public Iterator<String> iterator()
    {
        return Arrays.stream(ExperimentState.values())
                .filter(StateConverter::isReal)
                .map(state -> state.name().toLowerCase(Locale.ROOT))
                .collect(Collectors.toList())
                .iterator();
    }

    private static boolean isReal(ExperimentState state)
    {
        return state != ExperimentState.UNRECOGNIZED && state != ExperimentState.EXPERIMENT_STATE_UNSPECIFIED;
    }
}
