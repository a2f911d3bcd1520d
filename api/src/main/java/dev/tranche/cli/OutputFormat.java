package dev.tranche.cli;

public enum OutputFormat
{
    table,
    json
}
