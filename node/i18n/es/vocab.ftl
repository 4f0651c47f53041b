# Puente — vocabulario del expediente: etiquetas (code-<campo>-<CÓDIGO>) y definiciones
# (def-<campo>-<CÓDIGO>) de los campos codificados (common/src/vocab/codes.rs).
# Definiciones traducidas de HTCDS 2.0 (OIM y Tech Against Trafficking, CC BY 4.0).

## intake_channel
code-intake_channel-CASE_MANAGEMENT = Gestión de casos
code-intake_channel-HOTLINE = Línea telefónica de ayuda
code-intake_channel-REFERRAL_IN = Referencia de otra organización
code-intake_channel-OUTREACH = Búsqueda activa o trabajo de calle
code-intake_channel-LAW_ENFORCEMENT_OPERATION = Operativo de las autoridades
code-intake_channel-SELF_IDENTIFIED = Se presentó por cuenta propia

## case_status
code-case_status-ACTIVE = Activo
code-case_status-FOLLOW_UP = En seguimiento
code-case_status-CLOSED = Cerrado
code-case_status-CLOSED_REFERRED = Cerrado por referencia

## trafficking_status
code-trafficking_status-POSSIBLE_VICTIM = Posible víctima de trata
def-trafficking_status-POSSIBLE_VICTIM = Persona que podría ser víctima de trata pero cuya condición aún no se ha verificado.
code-trafficking_status-ACTUAL_VICTIM = Víctima de trata confirmada
def-trafficking_status-ACTUAL_VICTIM = Persona que ha sido determinada como víctima de trata.
code-trafficking_status-NOT_A_VICTIM = No es víctima de trata
def-trafficking_status-NOT_A_VICTIM = Persona que ha sido determinada como no víctima de trata y cuya información se ha registrado en el sistema de gestión de casos.

## status_decided_by
code-status_decided_by-POLICE = Policía
code-status_decided_by-NGO = ONG
code-status_decided_by-COURT_OR_PROSECUTION = Tribunal o fiscalía
code-status_decided_by-NON_POLICE_GOVERNMENT = Institución gubernamental no policial
code-status_decided_by-OTHER = Otra

## gender
code-gender-FEMININE = Femenino
code-gender-MASCULINE = Masculino
code-gender-TRANSGENDER_FEMININE = Transgénero femenino
code-gender-TRANSGENDER_MASCULINE = Transgénero masculino
code-gender-NON_CONFORMING = No conforme con el género
code-gender-NOT_SPECIFIED_UNKNOWN = No especificado/desconocido

## marital_status
code-marital_status-SINGLE = Soltero/a
code-marital_status-MARRIED = Casado/a
code-marital_status-WIDOWED = Viudo/a
code-marital_status-DIVORCED = Divorciado/a
code-marital_status-SEPARATED = Separado/a
code-marital_status-REGISTERED_PARTNERSHIP = Pareja registrada (unión civil)
code-marital_status-UNION_DE_HECHO = Unión de hecho o unión libre
code-marital_status-UNKNOWN = Desconocido

## education
code-education-NO_SCHOOLING = Sin escolaridad
code-education-EARLY_CHILDHOOD_EDUCATION = Educación de la primera infancia
code-education-PRIMARY_EDUCATION = Educación primaria
code-education-LOWER_SECONDARY_EDUCATION = Educación secundaria baja (básico, tercer ciclo)
code-education-UPPER_SECONDARY_EDUCATION = Educación secundaria alta (diversificado, bachillerato)
code-education-POST_SECONDARY_NON_TERTIARY_EDUCATION = Educación postsecundaria no terciaria
code-education-SHORT_CYCLE_TERTIARY_EDUCATION = Educación terciaria de ciclo corto (técnico superior)
code-education-BACHELORS_OR_EQUIVALENT_LEVEL = Licenciatura o nivel equivalente
code-education-MASTERS_OR_EQUIVALENT_LEVEL = Maestría o nivel equivalente
code-education-DOCTORAL_OR_EQUIVALENT_LEVEL = Doctorado o nivel equivalente
code-education-UNKNOWN = Desconocido

## migrant_type
code-migrant_type-NOT_A_MIGRANT = No es persona migrante
code-migrant_type-FAMILY = Migrante por motivos familiares
code-migrant_type-VISITOR_TOURIST = Visitante o turista
def-migrant_type-VISITOR_TOURIST = Persona a la que se permite la entrada temporal en un país con fines de turismo o visita.
code-migrant_type-LABOUR = Migrante laboral
def-migrant_type-LABOUR = Migrante con permiso temporal de residencia y trabajo.
code-migrant_type-STUDENT = Migrante estudiante
def-migrant_type-STUDENT = Migrante con permiso temporal de residencia y estudio.
code-migrant_type-IRREGULAR = Migrante en situación irregular
def-migrant_type-IRREGULAR = Persona que, por haber entrado sin autorización, haber incumplido una condición de entrada o permanencia o por el vencimiento de su visa, carece de estatus legal en un país de tránsito o de destino.

## protection_status
code-protection_status-NONE = Ninguna
code-protection_status-ASYLUM_SEEKER = Solicitante de asilo o refugio
def-protection_status-ASYLUM_SEEKER = Persona que busca protección internacional, se ha registrado ante las autoridades competentes y espera una decisión final sobre su solicitud, o que la busca pero aún no se ha registrado.
code-protection_status-REFUGEE = Persona refugiada
def-protection_status-REFUGEE = Persona cuya condición de refugiada y derecho a protección internacional han sido reconocidos formalmente por las autoridades, o que probablemente cumple los criterios de la Convención sobre refugiados pero no ha solicitado el reconocimiento.
code-protection_status-COMPLEMENTARY_PROTECTION = Beneficiaria de protección complementaria
def-protection_status-COMPLEMENTARY_PROTECTION = Persona a la que, conforme a la ley o la práctica nacional, se ha concedido permiso formal para residir en un país por necesitar protección internacional, aunque no cumpla los criterios de refugiado de la Convención de 1951.
code-protection_status-STATELESS = Persona apátrida
def-protection_status-STATELESS = Persona a la que ningún Estado considera nacional suyo conforme a su legislación, o que probablemente no lo es pero aún no ha sido reconocida formalmente como tal.

## migration_context
code-migration_context-DEPORTEE = Persona deportada
def-migration_context-DEPORTEE = Persona que ha sido devuelta por la fuerza por un gobierno a su país de origen o a un tercer país.
code-migration_context-RETURNEE = Persona retornada
def-migration_context-RETURNEE = Persona que ha regresado recientemente a su país de origen de forma voluntaria.
code-migration_context-SEPARATED_OR_UNACCOMPANIED_CHILD = Niña, niño o adolescente no acompañado o separado
def-migration_context-SEPARATED_OR_UNACCOMPANIED_CHILD = Separados: niñas, niños o adolescentes separados de ambos padres o de su cuidador principal legal o habitual, pero no necesariamente de otros parientes; no acompañados: separados de ambos padres y de otros parientes y sin el cuidado de un adulto responsable.
code-migration_context-IDP = Persona desplazada internamente
def-migration_context-IDP = Persona que se ha visto forzada u obligada a huir o dejar su hogar o lugar de residencia habitual, en particular para evitar los efectos de un conflicto armado, la violencia generalizada, violaciones de derechos humanos o desastres, sin cruzar una frontera internacional.
code-migration_context-ENVIRONMENTAL_MIGRANT = Migrante por motivos ambientales
def-migration_context-ENVIRONMENTAL_MIGRANT = Persona que, principalmente por cambios repentinos o progresivos del medio ambiente que afectan su vida o sus condiciones de vida, se ve obligada o decide dejar su hogar habitual, de forma temporal o permanente.
code-migration_context-VULNERABLE_MIGRANT = Migrante en situación de vulnerabilidad
def-migration_context-VULNERABLE_MIGRANT = Migrante que, por una combinación de factores, es vulnerable al punto de no poder ejercer sus derechos humanos, o de que estos estén gravemente amenazados, sin poder remediar su situación.
code-migration_context-STRANDED_MIGRANT = Migrante varado/a
def-migration_context-STRANDED_MIGRANT = Persona cuyo proceso migratorio se ha interrumpido, que se encuentra en una situación de vida o legal precaria y que no puede regresar a su país de origen ni continuar hacia otro Estado.
code-migration_context-FORCED_MIGRANT = Migrante forzado/a
def-migration_context-FORCED_MIGRANT = Persona que no puede registrarse como refugiada ni solicitante de asilo pero que se ha desplazado en un contexto con un elemento de coacción, como amenazas a la vida, a los medios de vida o privación de derechos humanos.
code-migration_context-EX_COMBATANT = Excombatiente
def-migration_context-EX_COMBATANT = Persona que ha sido combatiente pero ya no lo es. Combatiente es quien participa activamente en las hostilidades.

## act
code-act-RECRUITMENT = Captación
code-act-TRANSPORTATION = Transporte
code-act-TRANSFER = Traslado
code-act-HARBOURING = Acogida
code-act-RECEIPT = Recepción
code-act-RETENTION = Retención

## means
code-means-THREAT_OR_USE_OF_FORCE = Amenaza o uso de la fuerza
code-means-OTHER_COERCION = Otras formas de coacción
code-means-ABDUCTION = Rapto o secuestro
code-means-FRAUD = Fraude
code-means-DECEPTION = Engaño
code-means-ABUSE_OF_POWER = Abuso de poder
code-means-ABUSE_OF_VULNERABILITY = Abuso de una situación de vulnerabilidad
code-means-PAYMENTS_OR_BENEFITS = Concesión o recepción de pagos o beneficios

## control_method
code-control_method-PHYSICAL_THREATS = Amenazas de daño
def-control_method-PHYSICAL_THREATS = Indica si la persona vivió una situación en la que sus explotadores le comunicaron, explícita o implícitamente, la intención de causarle daño o pérdida a ella o a otra persona.
code-control_method-THREATS_LAW_ENFORCEMENT = Amenazas de denuncia ante las autoridades
def-control_method-THREATS_LAW_ENFORCEMENT = Indica si sus explotadores le comunicaron, explícita o implícitamente, la intención de contactar o involucrar a la policía u otras autoridades, como las migratorias, para perjudicarla a ella o a otra persona.
code-control_method-THREATENS_CHILDREN_FAMILY = Amenazas contra sus hijos o familiares
code-control_method-USES_CHILDREN = Control por medio de los hijos
def-control_method-USES_CHILDREN = Indica si el explotador limitó el acceso de la persona a sus hijos como medio de control, mediante la separación, el aislamiento, la manipulación de la custodia o el traslado de los hijos con personas o familiares vinculados al explotador o controlados por él.
code-control_method-DEBT_BONDAGE = Servidumbre por deudas
def-control_method-DEBT_BONDAGE = Indica si la persona es obligada a trabajar para pagar una deuda creada o percibida. Se le engaña para trabajar por poco o ningún pago, sin control sobre su deuda.
code-control_method-TAKES_EARNINGS = Apropiación de sus ingresos
def-control_method-TAKES_EARNINGS = Indica si la persona vivió una situación en la que los explotadores se quedaron con su remuneración para controlarla.
code-control_method-FALSE_PROMISES = Falsas promesas
def-control_method-FALSE_PROMISES = Indica si la persona fue defraudada o engañada por sus explotadores para entrar en la situación de explotación, mediante engaños y falsos pretextos.
code-control_method-PHYSICAL_ABUSE = Abuso físico
def-control_method-PHYSICAL_ABUSE = Indica si la persona vivió una situación en la que sus explotadores actuaron para causarle lesiones físicas, dolor, discapacidad, la muerte o traumas.
code-control_method-SEXUAL_ABUSE = Abuso sexual
def-control_method-SEXUAL_ABUSE = Indica si la persona sufrió cualquier contacto sexual no deseado o no consentido por parte de sus explotadores como medio para controlarla, y no como fin para el que fue objeto de trata.
code-control_method-PSYCHOLOGICAL_ABUSE = Abuso psicológico
def-control_method-PSYCHOLOGICAL_ABUSE = Indica si la persona vivió una situación en la que sus explotadores usaron tácticas emocionalmente abusivas, engañosas o manipuladoras para influir en ella.
code-control_method-RESTRICTS_FINANCIAL_ACCESS = Restricción del acceso a su dinero
def-control_method-RESTRICTS_FINANCIAL_ACCESS = Indica si sus explotadores le prohibieron o restringieron el acceso al dinero necesario para vivir el día a día o a sus propias finanzas personales.
code-control_method-RESTRICTS_MOVEMENT = Restricción de la libertad de movimiento
def-control_method-RESTRICTS_MOVEMENT = Indica si los explotadores aislaron, encerraron o limitaron de cualquier forma el movimiento de la persona, física o socialmente.
code-control_method-RESTRICTS_MEDICAL_CARE = Restricción de la atención médica
def-control_method-RESTRICTS_MEDICAL_CARE = Indica si los explotadores limitaron el acceso de la persona a servicios médicos o de salud.
code-control_method-WITHHOLDS_NECESSITIES = Privación de necesidades básicas
def-control_method-WITHHOLDS_NECESSITIES = Indica si sus explotadores le negaron, restringieron o amenazaron con negarle necesidades básicas como comida, vivienda, agua, higiene, ropa adecuada u objetos necesarios para su práctica religiosa o expresión de género.
code-control_method-PSYCHOACTIVE_SUBSTANCE = Sustancias psicoactivas
def-control_method-PSYCHOACTIVE_SUBSTANCE = Indica si los explotadores indujeron a la persona al consumo de sustancias, le dieron sustancias para volverla sumisa o influir en su conducta, o se aprovecharon de un consumo problemático previo.
code-control_method-EXCESSIVE_WORKING_HOURS = Jornadas de trabajo excesivas
def-control_method-EXCESSIVE_WORKING_HOURS = Indica si se exigió a la persona trabajar muchas más horas de las contratadas o prometidas; puede incluir horas extra, turnos tardíos o atípicos o trabajo nocturno.
code-control_method-WITHHOLDS_DOCUMENTS = Retención de documentos
def-control_method-WITHHOLDS_DOCUMENTS = Indica si sus explotadores limitaron, restringieron o controlaron el acceso de la persona a documentos importantes, como pasaporte, documentos migratorios, permiso de trabajo, documento de identidad u otros documentos oficiales.
code-control_method-OTHER = Otro
def-control_method-OTHER = Indica si el explotador usó una táctica para crear o mantener poder y control sobre la persona que no encaja razonablemente en ninguna de las categorías anteriores.

## exploitation_type
code-exploitation_type-SEXUAL_EXPLOITATION = Explotación sexual
code-exploitation_type-FORCED_LABOUR = Trabajo forzoso
code-exploitation_type-CHILD_LABOUR = Trabajo infantil
code-exploitation_type-FORCED_MARRIAGE = Matrimonio o unión forzada
code-exploitation_type-SERVITUDE = Servidumbre
code-exploitation_type-SLAVERY = Esclavitud
code-exploitation_type-FORCED_MILITARY_NON_STATE = Reclutamiento forzado por actores armados no estatales
code-exploitation_type-ORGAN_REMOVAL = Extracción de órganos o tejidos
code-exploitation_type-FORCED_BEGGING = Mendicidad forzada
code-exploitation_type-FORCED_CRIMINALITY = Actividades delictivas forzadas
code-exploitation_type-FORCED_ADOPTION = Adopción forzada o irregular
code-exploitation_type-SURROGACY = Gestación subrogada
code-exploitation_type-FORCED_PREGNANCY = Embarazo forzado
code-exploitation_type-SALE_OF_PERSONS = Venta de personas
code-exploitation_type-ILLICIT_BIOMEDICAL_EXPERIMENTATION = Experimentación biomédica ilícita
code-exploitation_type-OTHER = Otra

## sexual_exploitation_type
code-sexual_exploitation_type-PROSTITUTION = Explotación en la prostitución
code-sexual_exploitation_type-PORNOGRAPHY = Pornografía
code-sexual_exploitation_type-REMOTE_INTERACTIVE = Servicios sexuales interactivos a distancia
code-sexual_exploitation_type-PRIVATE_SEXUAL_SERVICES = Servicios sexuales privados

## recruitment_method
code-recruitment_method-AT_A_PLACE_OF_BUSINESS = En un negocio o comercio
code-recruitment_method-AT_AN_EDUCATIONAL_INSTITUTION = En un centro educativo
code-recruitment_method-AT_WORK = En el trabajo
code-recruitment_method-THROUGH_ONLINE_SOCIAL_NETWORKS = Por redes sociales en línea
code-recruitment_method-THROUGH_AN_ONLINE_ADVERTISEMENT = Por un anuncio en internet
code-recruitment_method-THROUGH_A_TELEVISION_ADVERT = Por un anuncio de televisión
code-recruitment_method-THROUGH_A_NEWSPAPER_ADVERT = Por un anuncio en el periódico
code-recruitment_method-THROUGH_FAMILY_OR_FAMILY_EVENTS = Por medio de familiares o reuniones familiares
code-recruitment_method-THROUGH_FRIENDS_OR_SOCIAL_EVENTS = Por medio de amistades o eventos sociales
code-recruitment_method-OTHER = Otro
code-recruitment_method-UNKNOWN = Desconocido

## recruitment_platform
code-recruitment_platform-FACEBOOK = Facebook
code-recruitment_platform-INSTAGRAM = Instagram
code-recruitment_platform-WHATSAPP = WhatsApp
code-recruitment_platform-TELEGRAM = Telegram
code-recruitment_platform-FACEBOOK_MESSENGER = Facebook Messenger
code-recruitment_platform-VIBER = Viber
code-recruitment_platform-SNAPCHAT = Snapchat
code-recruitment_platform-LINE = Line
code-recruitment_platform-FOUR_SALE = 4Sale
code-recruitment_platform-WECHAT = WeChat
code-recruitment_platform-QQ = QQ
code-recruitment_platform-QZONE = QZone
code-recruitment_platform-TIKTOK = TikTok
code-recruitment_platform-TWITTER = Twitter (X)
code-recruitment_platform-OTHER = Otra
code-recruitment_platform-UNKNOWN = Desconocida

## recruiter_relation
code-recruiter_relation-INTIMATE_PARTNER = Pareja sentimental
code-recruiter_relation-FRIEND = Amistad
code-recruiter_relation-FAMILY = Familiar
code-recruiter_relation-OTHER_KNOWN = Otra persona conocida
code-recruiter_relation-STRANGER = Persona sin relación previa
code-recruiter_relation-UNKNOWN = Desconocida

## route_event
code-route_event-RECRUITMENT = Captación
code-route_event-TRANSIT = Tránsito
code-route_event-EXPLOITATION = Explotación

## perpetrator_role
code-perpetrator_role-TRAVELLING_PARTNER = Acompañante de viaje
code-perpetrator_role-TRANSPORTER = Transportista
code-perpetrator_role-RECRUITER_OR_INTERMEDIARY = Captador/a o intermediario/a
code-perpetrator_role-BROKER_TRAVEL_AGENT = Gestor/a o agente de viajes
code-perpetrator_role-TRANSFERRED_INDIVIDUAL = Trasladó a la persona
code-perpetrator_role-HARBOURED_INDIVIDUAL = Acogió a la persona
code-perpetrator_role-SOLD_INDIVIDUAL = Vendió a la persona
code-perpetrator_role-BOUGHT_INDIVIDUAL = Compró a la persona
code-perpetrator_role-RECEIVED_INDIVIDUAL = Recibió a la persona
code-perpetrator_role-CONTROLLED_INDIVIDUAL = Controló a la persona
code-perpetrator_role-SMUGGLER = Traficante de migrantes (coyote)
code-perpetrator_role-ABUSER = Agresor/a
code-perpetrator_role-KIDNAPPER = Secuestrador/a
code-perpetrator_role-EXPLOITER = Explotador/a
code-perpetrator_role-OTHER = Otro

## perpetrator_sex
code-perpetrator_sex-FEMALE = Mujer
code-perpetrator_sex-MALE = Hombre
code-perpetrator_sex-UNKNOWN = Desconocido

## service_type
code-service_type-SHELTER = Albergue
code-service_type-HEALTH = Salud
code-service_type-PSYCHOLOGICAL = Atención psicológica
code-service_type-LEGAL = Asistencia legal
code-service_type-EDUCATION = Educación
code-service_type-FINANCIAL = Apoyo económico
code-service_type-LIVELIHOOD = Medios de vida
code-service_type-SOCIAL_CARE = Atención social
code-service_type-RETURN_REINTEGRATION = Retorno y reintegración
code-service_type-INTERPRETATION = Interpretación y traducción
code-service_type-DOCUMENTATION = Documentación personal
code-service_type-LABOUR_EXPLOITATION_REHABILITATION = Rehabilitación tras explotación laboral
code-service_type-RIGHTS_BASED_TRAINING = Formación en derechos
code-service_type-SEXUAL_EXPLOITATION_REHABILITATION = Rehabilitación tras explotación sexual
code-service_type-OTHER = Otro

## population (regional service directory)
code-population-MINORS = Niñas, niños y adolescentes
code-population-WOMEN = Mujeres
code-population-MEN = Hombres
code-population-LGBTI = Personas LGBTI
code-population-INDIGENOUS = Pueblos indígenas

## service_status
code-service_status-PLANNED = Planificado
code-service_status-IN_PROGRESS = En curso
code-service_status-COMPLETED = Concluido
code-service_status-DECLINED = Rechazado por la persona
code-service_status-NOT_AVAILABLE = No disponible

## proceeding_stage
code-proceeding_stage-COMPLAINT = Denuncia
code-proceeding_stage-INVESTIGATION = Investigación
code-proceeding_stage-PROSECUTION = Acusación
code-proceeding_stage-TRIAL = Juicio
code-proceeding_stage-VERDICT = Sentencia
code-proceeding_stage-APPEAL = Apelación

## verdict
code-verdict-CONVICTION = Condena
code-verdict-ACQUITTAL = Absolución
code-verdict-DISMISSED = Sobreseimiento o desestimación
code-verdict-PENDING = Pendiente

## consent_scope
code-consent_scope-CASE_MANAGEMENT = Gestión del caso
code-consent_scope-REFERRAL = Referencia a otra organización
code-consent_scope-STATISTICAL_USE = Uso estadístico

## consent_given_by
code-consent_given_by-PERSON = La persona
code-consent_given_by-GUARDIAN = Madre, padre o tutor/a
code-consent_given_by-LEGAL_BASIS = Otra base legal

## referral_field_group
code-referral_field_group-IDENTITY = Identidad
code-referral_field_group-CONTACT = Datos de contacto
code-referral_field_group-DEMOGRAPHICS = Datos sociodemográficos
code-referral_field_group-TRAFFICKING_PROCESS = Proceso de trata
code-referral_field_group-ASSISTANCE = Asistencia
code-referral_field_group-LEGAL_PROCEEDINGS = Procesos judiciales
code-referral_field_group-TIMELINE = Cronología del caso

## closure_reason
code-closure_reason-GOALS_MET = Objetivos alcanzados
code-closure_reason-REFERRED = Referido a otra organización
code-closure_reason-LOST_CONTACT = Se perdió el contacto
code-closure_reason-DECLINED_SERVICES = Rechazó los servicios
code-closure_reason-DECEASED = Fallecimiento
code-closure_reason-OTHER = Otro

## referral_reason
code-referral_reason-ADDITIONAL_SERVICES_REQUIRED = Requiere servicios adicionales
code-referral_reason-MIGRATION_OR_CHANGE_OF_LOCATION = Migración o cambio de lugar de residencia
code-referral_reason-RETURN_ASSISTANCE = Asistencia para el retorno
code-referral_reason-OTHER = Otro motivo

## referral_urgency
code-referral_urgency-ROUTINE = Ordinaria
code-referral_urgency-PRIORITY = Prioritaria
code-referral_urgency-EMERGENCY = Emergencia

## decline_reason
code-decline_reason-NO_CAPACITY = Sin capacidad disponible
code-decline_reason-OUTSIDE_MANDATE = Fuera del mandato de la organización
code-decline_reason-PERSON_NOT_REACHED = No se logró contactar a la persona
code-decline_reason-PERSON_DECLINED = La persona no aceptó la referencia
code-decline_reason-OTHER = Otro motivo

## referral_update
code-referral_update-ARRIVAL_CONFIRMED = Llegada confirmada
code-referral_update-SERVICES_STARTED = Servicios iniciados
code-referral_update-CONTACT_LOST = Se perdió el contacto
code-referral_update-OTHER = Otra novedad

## recall_reason
code-recall_reason-CONSENT_WITHDRAWN = Consentimiento retirado
code-recall_reason-REVOKED_BY_SENDER = Retirada por la organización remitente

## ctdc_age_band
code-ctdc_age_band-0_8 = 0 a 8 años
code-ctdc_age_band-9_17 = 9 a 17 años
code-ctdc_age_band-18_20 = 18 a 20 años
code-ctdc_age_band-21_23 = 21 a 23 años
code-ctdc_age_band-24_26 = 24 a 26 años
code-ctdc_age_band-27_29 = 27 a 29 años
code-ctdc_age_band-30_38 = 30 a 38 años
code-ctdc_age_band-39_47 = 39 a 47 años
code-ctdc_age_band-48_PLUS = 48 años o más

## glotip_age_band
code-glotip_age_band-0_17 = Niña, niño o adolescente (0 a 17 años)
code-glotip_age_band-18_PLUS = Persona adulta (18 años o más)

## duration_band
code-duration_band-M0_12 = 0 a 12 meses
code-duration_band-M13_24 = 13 a 24 meses
code-duration_band-M25_PLUS = 25 meses o más

## flow_reach
code-flow_reach-DOMESTIC = Nacional
code-flow_reach-SUBREGIONAL = Subregional
code-flow_reach-REGIONAL = Regional
code-flow_reach-TRANSREGIONAL = Transregional

## glotip_sex
code-glotip_sex-F = Mujer
code-glotip_sex-M = Hombre
code-glotip_sex-OTHER_UNKNOWN = Otro o desconocido

## glotip_form
code-glotip_form-SEXUAL = Explotación sexual
code-glotip_form-FORCED_LABOUR = Trabajo forzoso
code-glotip_form-FORCED_CRIMINALITY = Actividades delictivas forzadas
code-glotip_form-MIXED = Formas mixtas de explotación
code-glotip_form-OTHER = Otras formas de explotación
