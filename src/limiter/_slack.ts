// Floating-point slack shared by the algorithms: a billionth of a unit (of a token, of an
// interval, of a window), so that sums of fractional steps still compare equal to their total.
export const SLACK = 1e-9;
