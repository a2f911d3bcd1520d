package dev.tranche.scheduler.core;

/** One step of a cycle (allocate, reclaim, preempt, preempt-by-rank); actions run in their configured order over one session. */
interface Action
{
    String name();

    void execute(Session session);
}
