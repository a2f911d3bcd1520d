package dev.tranche.worker.data;

import java.nio.file.Path;

/** A data set file is missing, truncated or not in the expected format; the message names the file and the problem. */
public final class DatasetFormatException
        extends RuntimeException
{
    public DatasetFormatException(Path file, String problem)
    {
        super(file + ": " + problem);
    }

    public DatasetFormatException(Path file, String problem, Throwable cause)
    {
        super(file + ": " + problem, cause);
    }
}
