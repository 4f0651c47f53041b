# Estadísticas nacionales: páginas /statistics y /statistics/export.

nav-statistics = Estadísticas
action-view_statistics = Consultar y exportar las estadísticas protegidas (nacionales u organización)

stats-title = Estadísticas
stats-intro = Tablas de personas identificadas en un período cerrado, con control de divulgación: ninguna cifra pequeña se publica y ninguna cifra suprimida puede deducirse de los totales.
stats-choose-heading = Período y alcance
stats-field-kind = Tipo de período
stats-kind-month = Mes
stats-kind-quarter = Trimestre
stats-kind-year = Año
stats-field-period = Período
stats-period-error = Ese período no existe o aún no ha terminado; se muestra el último período cerrado.
stats-field-org = Organización
stats-whole-node = Todo el país
stats-show = Mostrar
stats-kind-hint = Solo períodos cerrados, fijos y sin superposición (los totales anuales se construyen sumando períodos protegidos).
stats-summary-heading = Período { $period }
stats-period-range = Del { $start } al { $end }.
stats-scope-org = Organización: { $org }.
stats-scope-node = Alcance: todo el país.
stats-persons = Personas contadas: { $n }
stats-method-heading = Método
stats-method = Se cuentan personas (no casos), una vez cada una, solo con consentimiento de uso estadístico (o base legal registrada) vigente al cierre del período. Umbral k = { $k }: toda cifra entre 1 y { $k } menos uno se suprime.
stats-method-rounding = Las cifras y los totales publicados se redondean a la base { $base }; los totales se calculan con los datos verdaderos.
stats-method-no-rounding = Sin redondeo.
stats-method-check = Supresión complementaria con comprobación exacta: ninguna cifra suprimida puede recuperarse de las cifras y los totales publicados. Las categorías poco frecuentes se agrupan (nacionalidades en subregiones M49 u «otras»).
stats-legend = «<{ $k }»: cifra suprimida (puede ser cualquier valor pequeño o haberse suprimido para proteger otra); nunca significa cero. «0»: ninguna persona.
stats-export-csv = Exportar CSV
stats-export-hxl = Exportar CSV con etiquetas HXL
stats-export-glotip = Exportar tabla GLOTIP
stats-total = Total
stats-margin-heading = Totales por { $dim }

stats-table-T01 = Sexo × edad × forma de explotación (GLOTIP, ODS 16.2.2)
stats-table-T02 = Género × grupo de edad (CTDC)
stats-table-T03 = Nacionalidad × país de explotación
stats-table-T03F = Alcance del flujo
stats-table-T04 = Tipo de explotación × medio de control
stats-table-T05 = Rama de actividad del trabajo forzoso (CIIU) × sexo
stats-table-T06 = Relación con el reclutador × edad
stats-table-T07 = Situación de trata × vía de ingreso
stats-table-T08 = Referencias enviadas, recibidas y aceptadas × país
stats-note-T03 = Las nacionalidades y los países con pocas personas se agrupan en su subregión M49 u «otras».
stats-note-T04 = Una persona cuenta en cada combinación de tipo de explotación y medio de control que le corresponde: los totales cuentan menciones, no personas.
stats-withheld = Esta tabla no se publica para este período: junto con las demás tablas permitiría deducir cifras suprimidas.
stats-note-T08 = Cuenta referencias, no personas.

stats-dim-glotip_sex = Sexo
stats-dim-glotip_age_band = Edad
stats-dim-ctdc_age_band = Grupo de edad
stats-dim-glotip_form = Forma de explotación
stats-dim-citizenship = Nacionalidad
stats-dim-country_of_exploitation = País de explotación
stats-dim-flow_reach = Alcance del flujo
stats-dim-exploitation_flag = Tipo de explotación
stats-dim-control_method = Medio de control
stats-dim-isic_section = Rama de actividad
stats-dim-recruiter_relation = Relación con el reclutador
stats-dim-trafficking_status = Situación de trata
stats-dim-intake_channel = Vía de ingreso
stats-dim-referral_flow = Referencias
stats-dim-partner_country = País

stats-cat-UNKNOWN = Desconocido
stats-cat-OTHER = Otras
stats-cat-NOT_RECORDED = No registrado
stats-cat-NOT_DECIDED = Sin determinar
stats-cat-FORCED_LABOUR = Trabajo forzoso
stats-cat-SEXUAL_EXPLOITATION = Explotación sexual
stats-cat-OTHER_EXPLOITATION = Otras formas de explotación
stats-cat-SENT = Enviadas
stats-cat-RECEIVED = Recibidas
stats-cat-ACCEPTED = Aceptadas
