# Case registry pages (cases/pages.rs, templates/cases/*.html).
# Registro de casos: listado, registro por pasos, página del caso, edición y acceso de emergencia.

## Navegación y listado

nav-cases = Casos
cases-title = Casos
cases-case = Caso
cases-index-title = Índice nacional de casos
cases-index-intro = Índice de todos los casos del nodo, sin datos de identidad. Para ver la identidad de un caso debe dar un motivo escrito; el acceso queda registrado y lo ven las demás personas administradoras y auditoras.
cases-register = Registrar caso
cases-filter-heading = Buscar y filtrar
cases-filter-search = Nombre o número de documento
cases-filter-search-hint = Palabras completas del nombre o apellido (sin importar tildes ni mayúsculas), o el número de un documento.
cases-filter-from = Registrado desde
cases-filter-to = Registrado hasta
cases-filter-submit = Filtrar
cases-filter-clear = Quitar filtros
cases-any = Cualquiera
cases-list-heading = Casos encontrados: { $total }
cases-page-of = Página { $page } de { $pages }
cases-empty = No hay casos que coincidan con la búsqueda.
cases-number = Número de caso
cases-person = Persona
cases-caseworker = Gestor(a) responsable
cases-exploitation-type = Tipo de explotación
cases-break-glass-link = Abrir con motivo
cases-back-to-list = Volver a la lista de casos
cases-back-to-case = Volver al caso

## Registro por pasos

cases-new-title = Registrar caso
cases-step-search = Búsqueda de la persona
cases-step-person = Persona
cases-step-case = Caso
cases-step-process = Proceso de trata
cases-step-consent = Consentimiento
cases-step-review = Revisión
cases-step-of = Paso { $n } de { $total }:
cases-next = Guardar y continuar
cases-back = Volver al paso anterior
cases-draft-saved-hint = Cada paso se guarda como borrador: si se corta la conexión o cierra sesión, podrá continuar desde «Registrar caso».
cases-draft-heading = Tiene un registro sin terminar
cases-draft-desc = Se guardó en el paso «{ $step }».
cases-draft-person = Persona:
cases-draft-continue = Continuar el registro
cases-draft-discard = Descartar el borrador
cases-search-heading = Antes de registrar: buscar a la persona
cases-search-intro = Busque por nombre o por número de documento para no registrar dos veces a la misma persona. Solo se buscan personas registradas por su organización.
cases-search-name = Nombres o apellidos
cases-search-document = Número de documento
cases-search-submit = Buscar
cases-search-results = Resultado de la búsqueda
cases-duplicate-warning = Esta persona podría estar ya registrada. Revise los casos listados antes de registrar a una persona nueva.
cases-no-matches = No se encontró ninguna persona con esos datos.
cases-cases-of-person = Casos
cases-use-this-person = Registrar un caso nuevo para esta persona
cases-new-person-desc = Si la persona no está en la lista, regístrela como persona nueva.
cases-new-person = Registrar persona nueva
cases-existing-person = Persona ya registrada:
cases-register-submit = Registrar el caso
cases-review-incomplete = Falta información obligatoria en algún paso. Pulse «Registrar el caso» para ver qué falta.
cases-review-no-consent = No hay consentimiento de gestión del caso: solo la coordinación puede registrar sin él, con un motivo escrito.

## Persona

cases-person-identity = Identidad
cases-identity-sealed = Estos datos identifican a la persona: se guardan cifrados y solo los ve su organización.
cases-person-facts = Datos de la persona
cases-given-names = Nombres
cases-family-names = Apellidos
cases-no-name = (sin nombre)
cases-birth-date = Fecha de nacimiento
cases-birth-date-hint = Si no se conoce, déjela en blanco.
cases-document-n = Documento { $n }
cases-document-kind = Tipo de documento
cases-document-kind-hint = Por ejemplo DPI, DUI, pasaporte, CURP.
cases-document-number = Número
cases-document-country = País que lo emitió
cases-documents = Documentos
cases-contact-n = Contacto { $n }
cases-contact-kind = Medio
cases-contact-value = Número o dirección
cases-contact-phone = Teléfono
cases-contact-whatsapp = WhatsApp
cases-contact-email = Correo electrónico
cases-contact-other = Otro
cases-contacts = Contactos
cases-address = Dirección
cases-gender = Género
cases-citizenship = Nacionalidad
cases-citizenship-second = Segunda nacionalidad
cases-country-of-birth = País de nacimiento
cases-language-primary = Idioma principal
cases-language-other = Otro idioma
cases-languages = Idiomas
cases-marital-status = Estado civil
cases-number-of-children = Número de hijas e hijos
cases-education = Nivel educativo más alto
cases-migrant-type = Tipo de migrante
cases-protection-status = Protección internacional
cases-migration-context = Otras situaciones migratorias
cases-age-at-registration = Edad al registrar el caso
cases-minor-at-registration = Menor de edad al registrar
cases-minor = Menor de edad
cases-unknown = Desconocido
cases-person-edit-title = Modificar los datos de la persona
cases-person-edit-hint = Los cambios se aplican a todos los casos de esta persona. Queda registrado qué campos cambiaron, no sus valores.
cases-edit-person = Modificar persona

## Caso

cases-case-data = Datos del caso
cases-intake-channel = Vía de ingreso
cases-registration-date = Fecha de registro
cases-identification-date = Fecha de identificación
cases-identification-date-hint = Cuándo se identificó a la persona como posible víctima, si es distinta de la fecha de registro.
cases-status = Estado del caso
cases-closure-reason = Motivo de cierre
cases-closure-reason-hint = Solo para casos cerrados.
cases-trafficking-status = Condición de víctima de trata
cases-status-decided-by = Quién determinó la condición
cases-status-decided-by-hint = Tipo de institución que determinó la condición de víctima.
cases-location = Ubicación del caso
cases-location-hint = Departamento o estado donde se atiende el caso.
cases-narrative = Relato
cases-narrative-hint = Texto libre. Se guarda cifrado. No escriba aquí datos que no sean necesarios para la atención.
cases-not-recorded = — Sin dato —
cases-updated-at = Última modificación
cases-edit-title = Modificar el caso
cases-edit-case = Modificar caso
cases-reload = Vuelva a cargar el caso para ver los cambios de la otra persona antes de guardar los suyos.
cases-error-version = Otra persona modificó este caso mientras usted lo editaba. Vuelva a cargar la página: sus cambios no se guardaron.

## Proceso de trata

cases-process-palermo = Proceso de trata (Protocolo de Palermo)
cases-process-intro = Marque todo lo que corresponda según el relato de la persona. Puede completarlo más adelante.
cases-acts = Actos
cases-acts-hint = Qué se hizo con la persona.
cases-means = Medios
cases-means-hint = Cómo se logró (para personas menores de edad no hace falta que haya medios).
cases-exploitation-types = Tipos de explotación
cases-sexual-exploitation-types = Formas de explotación sexual
cases-sexual-exploitation-types-hint = Solo si marcó explotación sexual.
cases-process-details = Detalles del proceso
cases-control-methods = Métodos de control
cases-recruitment-methods = Formas de captación
cases-recruiter-relation = Relación con quien captó a la persona
cases-forced-labour-industry = Actividad económica del trabajo forzoso
cases-forced-labour-industry-hint = Sección de la CIIU Rev.4.
cases-age-when-trafficked = Edad al momento de la trata
cases-exploitation-start = Inicio de la explotación
cases-exploitation-end = Fin de la explotación
cases-partial-date-hint = AAAA, AAAA-MM o AAAA-MM-DD (por ejemplo 2024 o 2024-05).
cases-country-of-recruitment = País de captación
cases-country-of-exploitation = País de explotación
cases-countries-region = Región
cases-countries-other = Otros países
cases-palermo-met = ¿Se cumplen los elementos del Protocolo de Palermo?
cases-palermo-hint = Se calcula a partir de los actos, medios y tipos de explotación registrados; para personas menores de edad no se requieren medios.
cases-route = Ruta
cases-perpetrators = Personas tratantes (roles)
cases-definitions = Definiciones
cases-what-is-this = ¿Qué significa?

## Consentimiento

cases-consents = Consentimientos
cases-consent-scopes = Para qué da su consentimiento la persona
cases-consent-intro = El consentimiento para la gestión del caso es obligatorio. Los demás son opcionales.
cases-consent-cm = Gestión del caso (obligatorio)
cases-consent-stat = Uso estadístico anónimo
cases-consent-ref = Referencia a otra organización
cases-consent-who = Quién dio el consentimiento
cases-consent-scope = Alcance
cases-consent-given-by = Dado por
cases-consent-given-by-hint = Si la persona es menor de edad, debe darlo su madre, padre o tutor(a).
cases-consent-guardian-name = Nombre de la madre, padre o tutor(a)
cases-consent-guardian-name-hint = Solo si lo dio un tutor(a).
cases-consent-given-on = Fecha del consentimiento
cases-consent-evidence = Referencia del formulario firmado
cases-consent-evidence-hint = Dónde se guarda el formulario firmado (por ejemplo, número de archivo). No suba el documento.
cases-consent-referral = Referencia (solo si marcó referencia)
cases-consent-referral-hint = A qué país pueden enviarse los datos, qué grupos de datos y hasta cuándo.
cases-consent-destination-country = País de destino
cases-consent-destination-org = Organización de destino
cases-consent-field-groups = Datos que pueden enviarse
cases-consent-expires-on = Vence el
cases-consent-expires-on-hint = Obligatorio para la referencia.
cases-override-heading = Registrar sin consentimiento de gestión del caso
cases-override-desc = Solo la coordinación puede hacerlo, por ejemplo si la persona no puede firmar todavía. El motivo queda en la cronología y en la auditoría.
cases-override-reason = Motivo
cases-reason-hint = Al menos 20 caracteres. No escriba datos de identidad de la persona.
cases-consent-details = Detalles
cases-consent-in-force = Vigente
cases-consent-not-in-force = No vigente
cases-consent-withdrawn-on = Retirado el { $date }
cases-consent-recorded-at = Registrado: { $at }
cases-consent-withdraw = Registrar retiro
cases-consent-withdrawn-date = Fecha del retiro
cases-consent-withdraw-submit = Registrar el retiro del consentimiento
cases-consent-add = Registrar un consentimiento
cases-consent-add-submit = Registrar consentimiento
cases-no-consents = Este caso no tiene consentimientos registrados.

## Servicios y procesos judiciales

cases-services = Servicios de asistencia
cases-service-type = Servicio
cases-service-provider = Quién lo presta
cases-start-date = Inicio
cases-end-date = Fin
cases-notes = Notas
cases-no-services = Todavía no hay servicios registrados.
cases-service-add = Agregar un servicio
cases-service-add-submit = Agregar servicio
cases-service-edit = Modificar servicio { $n }: { $what }
cases-proceedings = Proceso judicial
cases-proceeding-stage = Etapa
cases-proceeding-date = Fecha
cases-proceeding-authority = Autoridad
cases-proceeding-reference = Número de expediente
cases-proceeding-verdict = Resultado
cases-proceeding-verdict-hint = Solo para sentencia o apelación.
cases-proceeding-victim-witness = La persona declaró como testigo
cases-proceeding-protection = Con medidas de protección
cases-proceeding-reparation = Se ordenó reparación
cases-no-proceedings = Todavía no hay etapas del proceso judicial registradas.
cases-proceeding-add = Agregar una etapa
cases-proceeding-add-submit = Agregar etapa
cases-proceeding-edit = Modificar etapa { $n }: { $what }

## Cronología, cierre y reasignación

cases-timeline = Cronología
cases-timeline-hint = Las notas no se pueden modificar ni borrar. La más reciente aparece al final.
cases-timeline-case-registered = Caso registrado
cases-timeline-consent-override = Registrado sin consentimiento de gestión del caso
cases-timeline-case-closed = Caso cerrado
cases-timeline-note = Nota
cases-note-add = Agregar una nota
cases-note-hint = Se guarda cifrada. Escriba solo lo necesario para la atención.
cases-note-submit = Agregar nota
cases-close-heading = Cerrar el caso
cases-close-note = Nota de cierre
cases-close-note-hint = Opcional. Se agrega a la cronología.
cases-close-submit = Cerrar el caso
cases-reassign-heading = Reasignar el caso
cases-reassign-submit = Reasignar

## Acceso de emergencia

cases-glass-title = Acceso de emergencia a un caso
cases-glass-warning = Va a ver los datos de identidad de un caso de otra organización. Esto solo se justifica en una emergencia. El acceso y su motivo quedan registrados y los ven las demás personas administradoras y auditoras.
cases-glass-heading = Motivo del acceso
cases-glass-reason = Explique por qué necesita ver este caso
cases-glass-submit = Registrar el motivo y abrir el caso
cases-glass-banner-title = Acceso de emergencia registrado.
cases-glass-banner = Este acceso y su motivo quedaron en la auditoría. Vista de solo lectura.
cases-export-label = Exportar los casos de la organización:
cases-export-ctdc = CTDC (sin datos de identidad)
cases-export-htcds = HTCDS (con datos de identidad; manéjelo con cuidado)
