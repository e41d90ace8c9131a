/* cumulant_impl.h — classes of equal entries of a translation-invariant ring tensor
 * (private to cumulant.c and cumulant_exact.c). */
#ifndef HOCLAB_CUMULANT_IMPL_H
#define HOCLAB_CUMULANT_IMPL_H

#include <stddef.h>

/* For every entry idx = (a L + b) L + c of an L^3 ring tensor, the index of the
 * representative of its class: the four sites {0, a, b, c} up to translation and
 * permutation (and reflection i -> -i if `reflect`). The representative is the
 * lexicographically smallest sorted offset triple of the class, so map[idx] <= idx,
 * and a sorted triple: a <= b <= c. Returns the number of classes. */
size_t hl_cumulant4_classes(int L, int reflect, int *map);

#endif
