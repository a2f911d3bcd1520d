package dev.tranche.scheduler.core;

/** One step of a cycle (allocate, reclaim, preempt); actions run in a fixed order over one session. */
interface Action
{
    String name();

    void execute(Session session);
}
