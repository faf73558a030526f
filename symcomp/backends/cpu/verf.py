"""erf and erfc on SIMD vectors of float32, emitted inline as LLVM IR (no call, no division).

GELU, ``0.5 x (1 + erf(x / sqrt 2))``, is the activation of most transformer models; with
libmvec's ``_ZGVeN16v_erff`` its loop keeps every live vector on the stack around the call
(the vector ABI preserves no vector register).  The stabilize pass turns its ``1 + erf(z)``
into ``erfc(-z)`` (accurate in the negative tail, where 1 + erf cancels), and libmvec's
``erfcf`` took 15 ms on 1e7 arguments on one thread: so both are inline.

Algorithm: table-driven piecewise polynomials (the scheme of Intel's SVML on AVX-512, where a
``vpermt2ps`` reads one coefficient for all 16 lanes from a 32-entry table held in two
registers; Muller, "Elementary Functions", 3rd ed., 2016, ch. 6):

* erf: a = |x|, i = floor(8 a) for a < 4 (32 intervals of width 1/8), u = a - (i + 1/2)/8;
  erf(a) = a Q_i(u), Q_i a degree-5 Chebyshev fit of erf(a)/a on interval i
  (``mpmath.chebyfit``; relative error 5.4e-8 with float32 coefficients, 0.9 ULP, most of it
  the rounding of the constant terms); the form a Q keeps tiny and subnormal arguments exact in
  relative terms; a >= 4 gives 1 (erf rounds to 1 in float32 from 3.92 on); the sign of x
  restored (erf is odd; -0 stays -0);
* erfc: see :func:`emit_erfc`;
* NaN returns NaN (erf: the offset in the interval is NaN; erfc: the clamp keeps NaN).

Only with AVX-512 and 16-lane vectors; elsewhere libmvec is called.

Accuracy, worst case over every float32 argument against SciPy's float64 functions
(tests/exhaustive_f32.py): erf 2.32 ULP, erfc 2.92 ULP.
"""

from __future__ import annotations

import functools

from llvmlite import ir

from symcomp.backends.cpu import vexp

_TABLES = (
    (-0.009988452307879925, -0.02830316871404648, -0.04200169816613197, -0.049137894064188004,
     -0.049135640263557434, -0.042793795466423035, -0.03196336701512337, -0.019018851220607758,
     -0.006289121229201555, 0.004400459583848715, 0.011980925686657429, 0.01616887003183365, 0.0173177570104599,
     0.01617315411567688, 0.013616695068776608, 0.010461714118719101, 0.00733069097623229, 0.004614129662513733,
     0.0024905235040932894, 0.0009798250393941998, 5.544615760300076e-06, -0.0005512620555236936,
     -0.0008138705743476748, -0.0008883319096639752, -0.0008551371283829212, -0.0007694157538935542,
     -0.0006654086755588651, -0.000562185188755393, -0.00046887542703188956, -0.00038870974094606936,
     -0.00032178330002352595, -0.000266765448031947),
    (0.11111533641815186, 0.09898600727319717, 0.0767255499958992, 0.04788963869214058, 0.016831541433930397,
     -0.012173772789537907, -0.035702068358659744, -0.051678504794836044, -0.05952482298016548,
     -0.05997920408844948, -0.05469117313623428, -0.04572923481464386, -0.035129375755786896, -0.02457093819975853,
     -0.015212854370474815, -0.007676110602915287, -0.0021290387958288193, 0.0015768700977787375,
     0.0037658510264009237, 0.004821076523512602, 0.005105046555399895, 0.004916859790682793, 0.004478449933230877,
     0.003939383663237095, 0.0033907738979905844, 0.0028815018013119698, 0.00243279617279768,
     0.0020495099015533924, 0.0017279173480346799, 0.0014605987817049026, 0.0012392040807753801,
     0.0010558328358456492),
    (0.028078552335500717, 0.08115341514348984, 0.12549223005771637, 0.15685993432998657, 0.17303988337516785,
     0.17401373386383057, 0.16171959042549133, 0.13948597013950348, 0.11130327731370926, 0.0811067670583725,
     0.05221206322312355, 0.026981674134731293, 0.006732880603522062, -0.008157609030604362, -0.01802671141922474,
     -0.023654254153370857, -0.026011640205979347, -0.026068268343806267, -0.024668985977768898,
     -0.0224770400673151, -0.019966373220086098, -0.017444264143705368, -0.015087609179317951,
     -0.012980948202311993, -0.011149422265589237, -0.009583931416273117, -0.008258477784693241,
     -0.0071409959346055984, -0.006199434865266085, -0.0054047065787017345, -0.004731759428977966,
     -0.0041596475057303905),
    (-0.373487651348114, -0.35281622409820557, -0.3137207329273224, -0.26032716035842896, -0.1979837268590927,
     -0.13245642185211182, -0.06913785636425018, -0.012411931529641151, 0.034733302891254425, 0.0708165243268013,
     0.0957302376627922, 0.11043811589479446, 0.11659321188926697, 0.11616058647632599, 0.11110453307628632,
     0.10317151993513107, 0.09377256780862808, 0.08394982665777206, 0.07440256327390671, 0.06554636359214783,
     0.05758391693234444, 0.050572462379932404, 0.04447965323925018, 0.0392252616584301, 0.03470940887928009,
     0.03082987107336521, 0.027491433545947075, 0.024610018357634544, 0.022113708779215813, 0.019942104816436768,
     0.01804497465491295, 0.01638069748878479),
    (-0.0469057597219944, -0.13810919225215912, -0.22177331149578094, -0.29377466440200806, -0.3511899411678314,
     -0.3925022780895233, -0.41760504245758057, -0.42762449383735657, -0.4246135950088501, -0.41118350625038147,
     -0.39013907313346863, -0.36417073011398315, -0.3356335759162903, -0.3064230680465698, -0.27793794870376587,
     -0.25110960006713867, -0.22647331655025482, -0.20425769686698914, -0.18447467684745789, -0.1669982522726059,
     -0.1516266167163849, -0.13812680542469025, -0.12626370787620544, -0.11581705510616302, -0.10658952593803406,
     -0.09840934723615646, -0.09112953394651413, -0.08462557941675186, -0.07879246026277542, -0.07354169338941574,
     -0.06879856437444687, -0.06449981778860092),
    (1.1269116401672363, 1.1152942180633545, 1.092699646949768, 1.0603386163711548, 1.0198657512664795,
     0.9732140302658081, 0.9224172830581665, 0.8694425821304321, 0.8160548210144043, 0.7637235522270203,
     0.713576078414917, 0.6663934588432312, 0.6226397752761841, 0.5825124382972717, 0.5460031032562256,
     0.5129583477973938, 0.4831339418888092, 0.45623886585235596, 0.43196797370910645, 0.4100239872932434,
     0.3901306688785553, 0.3720393478870392, 0.3555307984352112, 0.340414434671402, 0.3265257775783539,
     0.31372344493865967, 0.3018859326839447, 0.2909087538719177, 0.2807016372680664, 0.27118638157844543,
     0.26229506731033325, 0.2539682388305664),
)
"""Q_i(u) coefficients, highest degree first: _TABLES[k][i] is coefficient k of interval i."""
_INTERVALS_PER_UNIT = 8
_LIMIT = 4.0
_ERFC_TABLES = (
    (0.09560201317071915, 0.03298042342066765, 0.012396488338708878, 0.005034723784774542, 0.0021923366002738476,
     0.0010162129765376449, 0.0004981780075468123, 0.0002567838819231838, 0.00013844225031789392,
     7.770995580358431e-05, 4.5228705857880414e-05, 2.719650547078345e-05, 1.6841924662003294e-05,
     1.0711059076129459e-05, 6.978492820053361e-06, 4.647628429665929e-06, 3.1579361348121893e-06,
     2.185417088185204e-06, 1.5380283002741635e-06, 1.0992728221026482e-06, 7.969535431584518e-07,
     5.854329288013105e-07, 4.353276779056614e-07, 3.273943036674609e-07, 2.4882811544557626e-07,
     1.9098169445896929e-07, 1.4793380387345678e-07, 1.1557700219100298e-07, 9.102726039600384e-08,
     7.223628273322902e-08, 5.773366851258288e-08, 4.6453102697796567e-08),
    (-0.18096846342086792, -0.06835532188415527, -0.02808610536158085, -0.012442312203347683,
     -0.005894369445741177, -0.0029639005661010742, -0.0015713709872215986, -0.0008731893030926585,
     -0.0005059238756075501, -0.00030424364376813173, -0.00018913878011517227, -0.00012112863623769954,
     -7.96705498942174e-05, -5.3675848903367296e-05, -3.69556037185248e-05, -2.59487860603258e-05,
     -1.854862603067886e-05, -1.3476576896209735e-05, -9.938381481333636e-06, -7.429915058310144e-06,
     -5.624809091386851e-06, -4.307872131903423e-06, -3.334794882903225e-06, -2.6072716536873486e-06,
     -2.057349092865479e-06, -1.637412196942023e-06, -1.3136711913830368e-06, -1.061860302797868e-06,
     -8.643593218948808e-07, -7.082390993673471e-07, -5.839191317136283e-07, -4.842347038902517e-07),
    (0.31248739361763, 0.1305932253599167, 0.05921652540564537, 0.02885930985212326, 0.014986776746809483,
     0.008229369297623634, 0.004745845682919025, 0.0028574359603226185, 0.0017869978910312057,
     0.001155656878836453, 0.0007698914851062, 0.0005266153602860868, 0.00036879521212540567,
     0.0002637767174746841, 0.00019227436860091984, 0.00014257236034609377, 0.00010736840340541676,
     8.200317824957892e-05, 6.343932182062417e-05, 4.9657468480290845e-05, 3.929056765628047e-05,
     3.139759792247787e-05, 2.5320738131995313e-05, 2.059354301309213e-05, 1.688084375928156e-05,
     1.3938818483438808e-05, 1.1588053894229233e-05, 9.695099834061693e-06, 8.159695426002145e-06,
     6.905805548740318e-06, 5.875250735698501e-06, 5.023145604354795e-06),
    (-0.4971593916416168, -0.23195144534111023, -0.11705274134874344, -0.0632418841123581, -0.03625031188130379,
     -0.0218699648976326, -0.013792303390800953, -0.009039300493896008, -0.006126055493950844,
     -0.004275064449757338, -0.0030610216781497, -0.0022419870365411043, -0.001675405423156917,
     -0.0012745819985866547, -0.0009852676885202527, -0.0007726293406449258, -0.000613770738709718,
     -0.0004933183663524687, -0.00040074705611914396, -0.0003287219151388854, -0.0002720472984947264,
     -0.00022698723478242755, -0.0001908180129248649, -0.0001615282817510888, -0.00013761507580056787,
     -0.00011794288002420217, -0.00010164498235099018, -8.805344259599224e-05, -7.664892473258078e-05,
     -6.702424434479326e-05, -5.885760401724838e-05, -5.1892842748202384e-05),
    (0.7046276330947876, 0.3726434111595154, 0.21217145025730133, 0.12862077355384827, 0.08222593367099762,
     0.05498792976140976, 0.03820793330669403, 0.027430502697825432, 0.02025320753455162, 0.015320240519940853,
     0.011834883131086826, 0.009311814792454243, 0.007445765659213066, 0.006039130501449108, 0.004960658960044384,
     0.0041211312636733055, 0.0034586128313094378, 0.0029292884282767773, 0.002501618815585971,
     0.0021525435149669647, 0.0018649545963853598, 0.0016259928233921528, 0.0014258731389418244,
     0.001257066149264574, 0.0011137175606563687, 0.0009912315290421247, 0.0008859673398546875,
     0.0007950172293931246, 0.0007160403183661401, 0.000647138396743685, 0.0005867617437615991,
     0.0005336369504220784),
    (-0.8586304187774658, -0.5269836187362671, -0.34548649191856384, -0.2390604466199875, -0.1728971153497696,
     -0.12967850267887115, -0.10023869574069977, -0.07945650815963745, -0.06433163583278656, -0.05303162708878517,
     -0.044395580887794495, -0.03766392916440964, -0.03232526034116745, -0.0280263964086771, -0.024517837911844254,
     -0.02161971665918827, -0.01919996552169323, -0.01716001145541668, -0.015425167046487331,
     -0.013938071206212044, -0.012654121033847332, -0.011538236401975155, -0.010562539100646973,
     -0.009704661555588245, -0.00894649513065815, -0.008273262530565262, -0.007672807667404413,
     -0.007135063875466585, -0.006651638075709343, -0.006215488538146019, -0.0058206734247505665,
     -0.005462152883410454),
    (-3.531640535570091e-09, -2.1538250294383943e-08, 1.1742294248051621e-08, -8.744494905954525e-09,
     9.184309979204386e-10, 7.145740443803561e-09, 6.568633192927109e-09, 4.645227313915257e-09,
     6.944755437388039e-09, 7.402098045616867e-09, -1.9358610270359122e-09, -2.6316000489856606e-09,
     6.942405317289513e-09, 6.162535814979719e-09, -4.5799319892125823e-10, 3.039164697682395e-09,
     1.868758925382963e-09, -1.4140747461865999e-09, -1.9969033093758526e-09, -2.1424009233328434e-09,
     -2.850969904599765e-09, 3.2414086970078415e-09, 3.218618926936756e-09, -1.5259988828120186e-09,
     -4.640389184018545e-10, 2.318983893800919e-09, 1.0042077169813979e-09, -2.8309934396730796e-09,
     4.0181708654829507e-11, -1.4804395487288957e-09, -1.515785275074677e-09, 1.5752534832103038e-09),
    (0.842142641544342, 0.6258425712585449, 0.4888305366039276, 0.3966299593448639, 0.33144092559814453,
     0.28344497084617615, 0.2469080239534378, 0.2183123528957367, 0.19540613889694214, 0.17669381201267242,
     0.16114971041679382, 0.1480504274368286, 0.1368730664253235, 0.1272313892841339, 0.11883452534675598,
     0.1114596426486969, 0.10493343323469162, 0.09911920130252838, 0.09390778839588165, 0.08921104669570923,
     0.084957055747509, 0.08108657598495483, 0.07755041867494583, 0.0743073895573616, 0.0713227391242981,
     0.06856697797775269, 0.06601491570472717, 0.0636449009180069, 0.061438221484422684, 0.05937865003943443,
     0.057452015578746796, 0.0556459054350853),
)
"""R_i(u) ~ erfc(a) exp(a**2) on interval i of width 10.25/32: the coefficients of degree 6 to 1,
then the constant term as lo and hi parts (so that its rounding does not cost half an ulp)."""
_ERFC_TOP = 10.25
_ERFC_CLAMP = 10.24
"""Arguments are clamped here, inside the last interval, so that no interval index needs a clamp;
erfc rounds to 0 in float32 from 10.1 on, and so does R(10.24) exp(-10.24**2)."""


def supported(t: ir.Type) -> bool:
    """Whether :func:`emit_erf` handles ``t`` inline (16 x float32 with AVX-512)."""
    return (isinstance(t, ir.VectorType) and isinstance(t.element, ir.FloatType) and t.count == 16
            and vexp._has_avx512f())


class _Tables:
    """32-entry coefficient tables read with AVX-512's two-register permute (``vpermt2ps``)."""

    def __init__(self, b: ir.IRBuilder, x: ir.Value, what: str):
        self.b, self.e = b, vexp._Emitter(b, x.type, what)
        name = "llvm.x86.avx512.vpermi2var.ps.512"
        self.perm = b.module.globals.get(name) or ir.Function(
            b.module, ir.FunctionType(self.e.t, [self.e.t, self.e.it, self.e.t]), name)

    def interval(self, a: ir.Value, per_unit: float, count: int = 32,
                 below_top: bool = False) -> tuple[ir.Value, ir.Value]:
        """(index, offset from the interval's centre) of a >= 0 among ``count`` intervals of width
        1/per_unit from 0.  Larger a reads the last interval (the caller replaces its result),
        unless ``below_top`` says that the caller already keeps a * per_unit below ``count``.
        NaN reads the last interval, or with ``below_top`` the first (AVX-512's truncating
        conversion gives 0x80000000, where LLVM's ``fptosi`` of NaN would be poison); its
        offset is NaN.

        The offset is one fused multiply-add: (cell + 1/2) is exact, so it is the offset
        rounded once; where (cell + 1/2) / per_unit is exact (both tables), the same bits as
        a - (cell + 1/2) / per_unit."""
        b, e = self.b, self.e
        scaled = b.fmul(a, e.splat(per_unit))
        cell = e.call("floor", scaled if below_top else e.call("minnum", scaled, e.splat(count - 1.0)))
        centre = b.fadd(cell, e.splat(0.5))
        index = self._to_index(cell) if below_top else b.fptosi(cell, e.it)
        return index, e.call("fma", centre, e.splat(-1.0 / per_unit), a)

    def _to_index(self, cell: ir.Value) -> ir.Value:
        """int32 lanes of ``cell`` by ``vcvttps2dq``, which is defined for NaN."""
        b, e = self.b, self.e
        name = "llvm.x86.avx512.mask.cvttps2dq.512"
        mask_t = ir.IntType(16)
        fn = b.module.globals.get(name) or ir.Function(
            b.module, ir.FunctionType(e.it, [e.t, e.it, mask_t, ir.IntType(32)]), name)
        return b.call(fn, [cell, ir.Constant(e.it, None), ir.Constant(mask_t, -1), ir.Constant(ir.IntType(32), 4)])

    def min_keeping_nan(self, limit: float, v: ir.Value) -> ir.Value:
        """min(limit, v), NaN where v is NaN: AVX-512's ``vminps`` returns its second operand
        when either is NaN, so one instruction (``llvm.minnum`` would return the limit)."""
        b, e = self.b, self.e
        name = "llvm.x86.avx512.min.ps.512"
        fn = b.module.globals.get(name) or ir.Function(
            b.module, ir.FunctionType(e.t, [e.t, e.t, ir.IntType(32)]), name)
        return b.call(fn, [e.splat(limit), v, ir.Constant(ir.IntType(32), 4)])

    def poly(self, tables, idx: ir.Value, u: ir.Value) -> ir.Value:
        """sum_k tables[k][idx] u**(degree - k), by Horner's scheme."""
        b, e = self.b, self.e

        def coeff(k):
            return b.call(self.perm, [ir.Constant(e.t, list(tables[k][:16])), idx,
                                      ir.Constant(e.t, list(tables[k][16:]))])

        acc = coeff(0)
        for k in range(1, len(tables)):
            acc = e.call("fma", acc, u, coeff(k))
        return acc


def _inline_where_supported(name: str):
    """Decorator: ``emit(tables, x)`` becomes ``emit(builder, x)``, which checks that ``x`` is a
    vector of float (TypeError otherwise) and calls libmvec's ``name`` where the inline code is
    not :func:`supported`."""
    def wrap(inline):
        @functools.wraps(inline)
        def emit(b: ir.IRBuilder, x: ir.Value) -> ir.Value:
            if not (isinstance(x.type, ir.VectorType) and isinstance(x.type.element, ir.FloatType)):
                raise TypeError(f"verf.emit_{name}: expected a vector of float, got {x.type}")
            if not supported(x.type):
                from symcomp.backends.cpu.mathlib import libmvec_call  # mathlib dispatches to this module

                return libmvec_call(b, name, x)
            return inline(_Tables(b, x, f"verf.emit_{name}"), x)
        return emit
    return wrap


@_inline_where_supported("erf")
def emit_erf(tab: _Tables, x: ir.Value) -> ir.Value:
    """erf(x) for a vector ``x`` of float32, elementwise: inline where :func:`supported`, else
    libmvec's call.  Called as ``emit_erf(builder, x)``.

    Raises:
        TypeError: for a type other than a vector of float.
    """
    b, e = tab.b, tab.e
    a = e.call("fabs", x)
    y = b.fmul(a, tab.poly(_TABLES, *tab.interval(a, float(_INTERVALS_PER_UNIT))))
    y = b.select(b.fcmp_ordered(">=", a, e.splat(_LIMIT)), e.splat(1.0), y)
    return e.call("copysign", y, x)  # a NaN x has a NaN offset, so y is NaN


@_inline_where_supported("erfc")
def emit_erfc(tab: _Tables, x: ir.Value) -> ir.Value:
    """erfc(x) = 1 - erf(x) for a vector ``x`` of float32, elementwise, accurate where it is tiny:
    inline where :func:`supported`, else libmvec's call.  Called as ``emit_erfc(builder, x)``.

    erfc(a) = exp(-a**2) R_i(a - c_i) for a = |x| (R_i degree 6 on 32 intervals of [0, 10.25),
    where erfc reaches the float32 underflow; its constant term in two parts); a**2 is kept as
    hi + lo (``fma``), so that exp(-a**2) = exp(-hi) (1 - lo) is not off by the rounding of a**2
    (100 ULP at a = 10); erfc(-a) = 2 - erfc(a).

    Raises:
        TypeError: for a type other than a vector of float.
    """
    b, e = tab.b, tab.e
    a = tab.min_keeping_nan(_ERFC_CLAMP, e.call("fabs", x))  # erfc rounds to 0 from 10.1 on
    hi = b.fmul(a, a)
    lo = e.call("fma", a, a, b.fneg(hi))
    # exp(-hi) for hi in [0, 104.9] or NaN: vexp.emit without its argument clamp and NaN select
    # (vscalef's result is NaN for NaN); vscalef rounds the subnormal results once.
    n, r = e.reduce(b.fneg(hi))
    decay = e.scale(e.horner(e.p["poly"], r), n)
    idx, u = tab.interval(a, 32 / _ERFC_TOP, below_top=True)  # _ERFC_CLAMP * 32 / _ERFC_TOP < 31.97
    big_r = b.fadd(tab.poly(_ERFC_TABLES[:-1], idx, u), tab.poly(_ERFC_TABLES[-1:], idx, u))  # (S u + lo) + hi
    y = b.fmul(decay, e.call("fma", b.fneg(lo), big_r, big_r))  # exp(-hi) (1 - lo) R
    return b.select(b.fcmp_ordered("<", x, e.splat(0.0)), b.fsub(e.splat(2.0), y), y)  # NaN: a, y NaN
