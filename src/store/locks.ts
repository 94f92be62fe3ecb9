/** Advisory lock keys (arbitrary, fixed). One writer lock: every batch and every rebuild hold it. */
export const WRITER_LOCK_KEY = 7_236_002;
