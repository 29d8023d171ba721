# C types for compiling writer.py with Cython ("pure Python mode"; see writer.py's docstring).
# Only names declared here become C values; everything else stays a Python object.
cimport cython

ctypedef unsigned long long u64
ctypedef long long i64

cdef u64 _MASK64, _GOLDEN, _M1, _M2
cdef i64 _ID_BASE, _ID_SPAN, _PHONE_SPAN, _EPOCH, _SCALE_SQ, _HORIZON, _PERIOD

@cython.locals(day=i64, rest=i64)
cpdef str timestamp_text(i64 seconds)

@cython.locals(n=i64, key=u64, x=u64, h1=u64, h2=u64, h3=u64, hn=u64, lag=u64, k=u64, cents=i64,
               id_mul=i64, id_add=i64, name_mul=i64, name_add=i64, combos=i64, phone_mul=i64, phone_add=i64,
               combo=i64, last_count=i64, first_idx=i64, last_idx=i64, number=i64, high=i64, low=i64, high2=i64)
cpdef tuple pieces(object layout, object i, int need=*)

cpdef bytes customer_json(object layout, object i)

cpdef bytes customer_json_fields(object layout, object i, int need, list members)

cpdef str project_items(str text, tuple keys)
